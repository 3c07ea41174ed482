// `node src/main.ts --help` and `--version`: every flag of config.ts with its environment
// variable and default. The description table is keyed by the flags themselves, so a flag
// added to config.ts without a description does not compile.
import { readFileSync } from 'node:fs';
import { envName, flags, type Flag } from './config.ts';

const descriptions: Record<Flag, string> = {
  kubeconfig:
    "kubeconfig file; empty = the files in $KUBECONFIG, else ~/.kube/config, else the pod's service account",
  'watch-namespace': 'watch only these namespaces (comma-separated); empty = all namespaces',
  'watch-label-selector':
    'shard: reconcile only the Certificates and IntegrationAccounts with these labels (e.g. integration.b2b.dev/shard=a); every shard reads all IntegrationAccounts; the default Lease name gets the selector',
  'leader-elect': 'hold a Lease before reconciling, so one of several replicas works at a time',
  'leader-election-namespace':
    "namespace of the Lease; in a pod the default is the operator's own (POD_NAMESPACE or its service account's)",
  'leader-election-id': 'name of the Lease (one per operator installation)',
  concurrency: 'reconciles running at once, per kind',
  'recheck-interval': 'how long a verified vault key and its grants are trusted before a recheck',
  'keyvault-poll-interval':
    'how often the latest enabled version of a Key Vault certificate source is read (one request per vault and certificate name per interval, shared by the Certificates naming it)',
  'allowed-vault-hosts':
    'comma-separated vault hosts allowed besides the Azure Key Vault suffixes (e.g. an emulator)',
  'azure-arm-endpoint':
    "the azure store's Azure Resource Manager URL instead of its cloud's (test servers); https only",
  'azure-graph-endpoint':
    "the azure store's Microsoft Graph URL instead of its cloud's (test servers); https only",
  'azure-request-timeout':
    'every request to Azure (Resource Manager, Microsoft Graph, Key Vault, a token from Microsoft Entra ID or the managed identity endpoint) ends within this',
  'azure-identity-policy':
    "operator or serviceAccount: under serviceAccount, objects outside the operator's namespace may not use its own managed or workload identity (IdentityNotAllowed, no token requested); they name a ServiceAccount of their namespace or a service principal",
  'metrics-bind-address': 'address of the Prometheus /metrics endpoint',
  'health-probe-bind-address': 'address of /healthz and /readyz',
  'log-level': 'debug, info, warn or error (JSON lines on stdout)',
  'graceful-shutdown-timeout':
    'on SIGTERM, how long in-flight reconciles may finish before they are cancelled (keep terminationGracePeriodSeconds above it)',
};

export function operatorUsage(): string {
  const rows = (Object.keys(flags) as Flag[]).map((name) => {
    const dflt = flags[name] === '' ? '""' : flags[name];
    return `  --${name}\n      ${descriptions[name]}\n      env ${envName(name)}, default ${dflt}`;
  });
  return `Usage: node src/main.ts [flags]   (npm start, make run)

The b2b-certificate-operator: validates, verifies and syncs the Certificates of
IntegrationAccounts (integration.b2b.dev/v1alpha1). Every flag is also read from its
environment variable; a flag on the command line wins.

Flags:
${rows.join('\n')}
  --help      print this help
  --version   print the version
`;
}

export function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

/** The text to print instead of starting, for --help / -h / --version; else undefined. */
export function helpOrVersion(argv: readonly string[]): string | undefined {
  if (argv.includes('--help') || argv.includes('-h')) return operatorUsage();
  if (argv.includes('--version')) return `b2b-certificate-operator ${packageVersion()}\n`;
  return undefined;
}
