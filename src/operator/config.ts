// Operator flags (API.md), each also settable as env B2B_<FLAG> (e.g. B2B_WATCH_NAMESPACE).
import { parseGoDuration } from '../certificates/duration.ts';
import { AZURE_IDENTITY_POLICIES, type AzureIdentityPolicy } from '../identity/policy.ts';
import { createHash } from 'node:crypto';
import { LabelSelectorError, parseLabelSelector } from '../runtime/label-selector.ts';
import type { Level } from './log.ts';

export interface OperatorConfig {
  kubeconfig: string | undefined;
  /** Empty: all namespaces. */
  watchNamespaces: string[];
  /** Certificates (and the IntegrationAccounts this process writes) with these labels only. */
  watchLabelSelector: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  concurrency: number;
  recheckIntervalMs: number;
  /** How often the latest version of a Key Vault certificate source is read. */
  keyVaultPollIntervalMs: number;
  allowedVaultHosts: string[];
  /** Override the cloud's ARM / Microsoft Graph endpoints (test servers); empty = the cloud's. */
  azureArmEndpoint: string;
  azureGraphEndpoint: string;
  /** Every request to Azure (ARM, Graph, Key Vault, a token) ends by then. */
  azureRequestTimeoutMs: number;
  /** Whether objects outside operatorNamespace may use the operator's own Azure identity. */
  azureIdentityPolicy: AzureIdentityPolicy;
  /** Where the operator runs: POD_NAMESPACE, its service account's, else the Lease's namespace. */
  operatorNamespace: string;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  logLevel: Level;
  gracefulShutdownTimeoutMs: number;
}

export const flags = {
  kubeconfig: '',
  'watch-namespace': '',
  'watch-label-selector': '',
  'leader-elect': 'false',
  'leader-election-namespace': 'b2b-system',
  'leader-election-id': 'b2b-certificate-operator',
  concurrency: '4',
  'recheck-interval': '1h',
  'keyvault-poll-interval': '5m',
  'allowed-vault-hosts': '',
  'azure-arm-endpoint': '',
  'azure-graph-endpoint': '',
  'azure-request-timeout': '30s',
  'azure-identity-policy': 'operator',
  'metrics-bind-address': ':8080',
  'health-probe-bind-address': ':8081',
  'log-level': 'info',
  'graceful-shutdown-timeout': '20s',
} as const;
export type Flag = keyof typeof flags;

/** The environment variable of a flag: --watch-namespace reads B2B_WATCH_NAMESPACE. */
export const envName = (flag: string) => `B2B_${flag.toUpperCase().replace(/-/g, '_')}`;

export class ConfigError extends Error {}

/**
 * `operatorNamespace`: where the operator runs (its service account's namespace, or
 * POD_NAMESPACE); the leader-election Lease lives there unless the flag says otherwise.
 */
export function parseConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  operatorNamespace?: string,
): OperatorConfig {
  const values: Record<string, string> = { ...flags };
  const ownNamespace = env.POD_NAMESPACE || operatorNamespace;
  if (ownNamespace) values['leader-election-namespace'] = ownNamespace;
  for (const name of Object.keys(flags)) {
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined) values[name] = fromEnv;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1]! in flags))
      throw new ConfigError(
        `unknown argument ${arg}; flags: ${Object.keys(flags)
          .map((f) => `--${f}`)
          .join(' ')}`,
      );
    const name = m[1] as Flag;
    let value = m[2];
    if (value === undefined) value = name === 'leader-elect' ? 'true' : argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    values[name] = value;
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ConfigError('--concurrency must be a whole number >= 1');
  const recheck = parseGoDuration(values['recheck-interval']!);
  if (recheck === undefined || recheck <= 0)
    throw new ConfigError('--recheck-interval must be a duration such as 1h or 90s');
  const poll = parseGoDuration(values['keyvault-poll-interval']!);
  if (poll === undefined || poll <= 0)
    throw new ConfigError('--keyvault-poll-interval must be a duration such as 5m or 30s');
  const shutdownTimeout = parseGoDuration(values['graceful-shutdown-timeout']!);
  if (shutdownTimeout === undefined || shutdownTimeout < 0)
    throw new ConfigError('--graceful-shutdown-timeout must be a duration such as 20s');
  const azureTimeout = parseGoDuration(values['azure-request-timeout']!);
  if (azureTimeout === undefined || azureTimeout <= 0)
    throw new ConfigError('--azure-request-timeout must be a duration such as 30s');
  for (const flag of ['azure-arm-endpoint', 'azure-graph-endpoint'] as const)
    if (values[flag] && !/^https:\/\/[^/]+/.test(values[flag]))
      throw new ConfigError(`--${flag} must be an https:// URL`);
  const identityPolicy = values['azure-identity-policy'] as AzureIdentityPolicy;
  if (!AZURE_IDENTITY_POLICIES.includes(identityPolicy))
    throw new ConfigError(
      `--azure-identity-policy must be ${AZURE_IDENTITY_POLICIES.join(' or ')}`,
    );
  const watchNamespaces = values['watch-namespace']!.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const n of watchNamespaces)
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n))
      throw new ConfigError(`--watch-namespace: "${n}" is not a namespace name`);
  const selector = values['watch-label-selector']!;
  try {
    parseLabelSelector(selector);
  } catch (err) {
    if (err instanceof LabelSelectorError)
      throw new ConfigError(`--watch-label-selector: ${err.message}`);
    throw err;
  }
  const level = values['log-level'] as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level))
    throw new ConfigError('--log-level must be debug, info, warn or error');
  return {
    kubeconfig: values.kubeconfig || undefined,
    watchNamespaces,
    watchLabelSelector: selector.trim(),
    leaderElect: values['leader-elect'] === 'true',
    leaderElectionNamespace: values['leader-election-namespace']!,
    leaderElectionId:
      values['leader-election-id'] === flags['leader-election-id']
        ? shardLeaseName(flags['leader-election-id'], selector.trim())
        : values['leader-election-id']!,
    concurrency,
    recheckIntervalMs: recheck,
    keyVaultPollIntervalMs: poll,
    allowedVaultHosts: values['allowed-vault-hosts']!.split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    azureArmEndpoint: values['azure-arm-endpoint']!,
    azureGraphEndpoint: values['azure-graph-endpoint']!,
    azureRequestTimeoutMs: azureTimeout,
    azureIdentityPolicy: identityPolicy,
    operatorNamespace: ownNamespace || values['leader-election-namespace']!,
    metricsBindAddress: values['metrics-bind-address']!,
    healthProbeBindAddress: values['health-probe-bind-address']!,
    logLevel: level,
    gracefulShutdownTimeoutMs: shutdownTimeout,
  };
}

/**
 * Each shard holds a Lease of its own: the default Lease name gets the selector (readable, cut
 * short) and a hash of it (`shard=a` and `shard!=a` read alike once cleaned).
 */
export function shardLeaseName(base: string, selector: string): string {
  if (!selector) return base;
  const readable = selector
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60)
    .replace(/[-.]+$/, '');
  const hash = createHash('sha256').update(selector).digest('hex').slice(0, 8);
  return `${base}-${readable ? `${readable}-` : ''}${hash}`;
}
