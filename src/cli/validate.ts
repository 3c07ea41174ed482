// `b2b validate`: each of our objects in the input checked as the API server (CRD schema and
// CEL) and the operator (the controller's own pure checks) would, without a cluster. Sources
// and accounts that are not in the input are resolved at apply time, not reported as errors.
import { findCondition } from '../api/conditions.ts';
import { GROUP, type Certificate, type IntegrationAccount } from '../api/types.ts';
import { expiryStatus } from '../certificates/checks.ts';
import {
  evaluateCertificate,
  expiryWarningMs,
  type SourceState,
} from '../controllers/certificate/evaluate.ts';
import {
  quotaPosition,
  sourceFromObject,
  type DataObject,
} from '../controllers/certificate/source-data.ts';
import { buildAccountStatus, vaultsFromSpec } from '../controllers/integration-account/status.ts';
import { validateAgainstSchema, type CustomResourceDefinition } from './crd-schema.ts';
import { isObject, type SourceObject } from './input.ts';

export type Level = 'fail' | 'warn' | 'pending' | 'pass';

export interface ObjectResult {
  file: string;
  line: number;
  kind: string;
  namespace: string;
  name: string;
  level: Level;
  /** The operator's reason (API.md), or Invalid for what the API server refuses. */
  reason: string;
  message: string;
}

export interface ValidateOptions {
  now: Date;
  /** --warn-expiring; else each certificate's spec.expiryWarning (default 720h). */
  warnExpiringMs: number | undefined;
  allowedVaultHosts: readonly string[];
  /** Namespace of objects that name none (kubectl's -n, else default). */
  namespace: string;
}

interface Parsed {
  source: SourceObject;
  kind: string;
  namespace: string;
  name: string;
  /** The object after defaulting, when the schema accepted it. */
  valid: Record<string, unknown> | undefined;
  errors: string[];
  /** CEL rules b2b could not evaluate: the API server checks them at apply time. */
  notes: string[];
}

const ourApiGroup = (apiVersion: unknown) =>
  typeof apiVersion === 'string' && apiVersion.split('/')[0] === GROUP;

export function validateObjects(
  sources: readonly SourceObject[],
  crds: readonly CustomResourceDefinition[],
  options: ValidateOptions,
): ObjectResult[] {
  const all = sources.map((source) => parse(source, crds, options.namespace));
  const ours = all.filter((p) => ourApiGroup(p.source.object.apiVersion));
  const accepted = <T>(kind: string) =>
    ours.filter((p) => p.kind === kind && p.valid).map((p) => p.valid as unknown as T);
  const certificates = accepted<Certificate>('Certificate');
  const accounts = new Map(
    accepted<IntegrationAccount>('IntegrationAccount').map((a) => [
      key(a.metadata.namespace, a.metadata.name),
      withStatus(a, certificates, options),
    ]),
  );
  const dataByName = dataObjects(all);
  // Other objects are reported only when the API server would refuse them (e.g. a Secret value
  // that is not a string), as certificates read them.
  const reported = all.filter((p) => ourApiGroup(p.source.object.apiVersion) || p.errors.length);
  return reported.map((p) => withNotes(judge(p), p.notes));

  function judge(p: Parsed): ObjectResult {
    const where = {
      file: p.source.file,
      line: p.source.line,
      kind: p.kind,
      namespace: p.namespace,
      name: p.name,
    };
    if (!p.valid)
      return { ...where, level: 'fail', reason: 'Invalid', message: p.errors.join('; ') };
    if (p.kind === 'IntegrationAccount') {
      const account = accounts.get(key(p.namespace, p.name))!;
      return { ...where, ...accountVerdict(account) };
    }
    if (p.kind !== 'Certificate')
      return { ...where, level: 'pass', reason: 'Valid', message: 'accepted by the CRD schema' };
    const certificate = p.valid as unknown as Certificate;
    return {
      ...where,
      ...certificateVerdict(certificate, certificates, accounts, dataByName, options),
    };
  }
}

function withNotes(result: ObjectResult, notes: readonly string[]): ObjectResult {
  return notes.length ? { ...result, message: [result.message, ...notes].join('; ') } : result;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/** Object names as the API server accepts them (RFC 1123 subdomain). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parse(
  source: SourceObject,
  crds: readonly CustomResourceDefinition[],
  namespace: string,
): Parsed {
  const { object } = source;
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const kind = typeof object.kind === 'string' ? object.kind : '(no kind)';
  const parsed: Parsed = {
    source,
    kind,
    namespace: typeof metadata.namespace === 'string' ? metadata.namespace : namespace,
    name: typeof metadata.name === 'string' ? metadata.name : '(no name)',
    valid: undefined,
    errors: [],
    notes: [],
  };
  if (isDataObject(object)) parsed.errors.push(...dataValueErrors(object));
  if (!ourApiGroup(object.apiVersion)) return parsed;
  const [group, version] = String(object.apiVersion).split('/');
  const crd = crds.find((c) => c.group === group && c.kind === kind);
  const schema = crd?.versions.get(version ?? '');
  if (!crd || !schema) {
    parsed.errors.push(
      `no kind ${kind} in ${String(object.apiVersion)} (the CRDs in crds/ define ${crds.map((c) => `${c.kind} in ${c.group}/${[...c.versions.keys()].join(', ')}`).join('; ')})`,
    );
    return parsed;
  }
  if (typeof metadata.name !== 'string' || metadata.name === '')
    parsed.errors.push('metadata.name: Required value');
  else if (metadata.name.length > 253 || !DNS_SUBDOMAIN.test(metadata.name))
    parsed.errors.push(
      `metadata.name: Invalid value: "${metadata.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  const { value, errors } = validateAgainstSchema(schema, object);
  for (const e of errors)
    (e.unevaluated ? parsed.notes : parsed.errors).push(`${e.field}: ${e.message}`);
  if (parsed.errors.length === 0) {
    const valid = value as Record<string, unknown>;
    const uid = key(parsed.namespace, parsed.name);
    valid.metadata = { ...(valid.metadata as object), namespace: parsed.namespace, uid };
    parsed.valid = valid;
  }
  return parsed;
}

/** The account's status as the account controller would compute it from the input. */
function withStatus(
  account: IntegrationAccount,
  certificates: readonly Certificate[],
  options: ValidateOptions,
): IntegrationAccount {
  const status = buildAccountStatus({
    account,
    certificates: siblingsOf(certificates, account.metadata.namespace, account.metadata.name),
    vaults: vaultsFromSpec(account, options.allowedVaultHosts, options.now),
    now: options.now,
  });
  return { ...account, status };
}

function accountVerdict(
  account: IntegrationAccount,
): Pick<ObjectResult, 'level' | 'reason' | 'message'> {
  const ready = findCondition(account.status?.conditions, 'Ready');
  if (ready?.status !== 'True')
    return { level: 'fail', reason: ready?.reason ?? 'Unknown', message: ready?.message ?? '' };
  const { total = 0, quota = 0 } = account.status?.certificates ?? {};
  // A vault the account cannot use fails only the certificates that use it.
  const refused = account.status?.keyVaults?.find((v) => !v.reachable);
  if (refused)
    return {
      level: 'warn',
      reason: refused.reason ?? 'VaultUnavailable',
      message: `key vault ${refused.name}: ${refused.message ?? ''}`,
    };
  return {
    level: 'pass',
    reason: 'Ready',
    message: `${ready.message}; ${total} of ${quota} certificates in the input (sku ${account.spec.sku ?? 'Standard'})`,
  };
}

const siblingsOf = (certificates: readonly Certificate[], namespace: string, account: string) =>
  certificates.filter(
    (c) => c.metadata.namespace === namespace && c.spec.integrationAccount.name === account,
  );

const isDataObject = ({ apiVersion, kind }: Record<string, unknown>) =>
  apiVersion === 'v1' && (kind === 'Secret' || kind === 'ConfigMap');

/** What the API server refuses in a Secret's or ConfigMap's data: values that are not strings. */
function dataValueErrors(object: Record<string, unknown>): string[] {
  const errors: string[] = [];
  for (const field of ['data', 'stringData', 'binaryData']) {
    const values = object[field];
    if (values === undefined || values === null) continue;
    if (!isObject(values)) {
      errors.push(`${field}: Invalid value: must be a map of strings, not ${typeof values}`);
      continue;
    }
    for (const [k, v] of Object.entries(values))
      if (typeof v !== 'string')
        errors.push(
          `${field}[${k}]: Invalid value: ${JSON.stringify(v)}: must be a string, not ${Array.isArray(v) ? 'a list' : typeof v} (quote it in YAML)`,
        );
  }
  return errors;
}

/** Secrets and ConfigMaps of the input, as the API server would store them (stringData merged). */
function dataObjects(all: readonly Parsed[]): Map<string, DataObject> {
  const found = new Map<string, DataObject>();
  for (const p of all) {
    // one the API server refuses is not there for the certificates
    if (!isDataObject(p.source.object) || p.errors.length) continue;
    const o = p.source.object as DataObject & { stringData?: Record<string, string> };
    const data = { ...(o.data ?? {}) };
    for (const [k, v] of Object.entries(o.stringData ?? {}))
      data[k] = Buffer.from(v).toString('base64');
    found.set(`${p.kind}/${key(p.namespace, p.name)}`, { data, binaryData: o.binaryData ?? {} });
  }
  return found;
}

function sourceOf(
  certificate: Certificate,
  objects: Map<string, DataObject>,
): SourceState | undefined {
  const { inline, secretRef, configMapRef } = certificate.spec.certificate;
  if (inline !== undefined) return { found: true, data: inline };
  const what = secretRef ? 'Secret' : 'ConfigMap';
  const ref = secretRef ?? configMapRef;
  if (!ref) return undefined;
  const object = objects.get(`${what}/${key(certificate.metadata.namespace, ref.name)}`);
  return object && sourceFromObject(what, ref.name, object, ref.key ?? 'tls.crt');
}

function certificateVerdict(
  certificate: Certificate,
  certificates: readonly Certificate[],
  accounts: Map<string, IntegrationAccount>,
  objects: Map<string, DataObject>,
  options: ValidateOptions,
): Pick<ObjectResult, 'level' | 'reason' | 'message'> {
  const { namespace } = certificate.metadata;
  const accountName = certificate.spec.integrationAccount.name;
  const account = accounts.get(key(namespace, accountName));
  const source = sourceOf(certificate, objects);
  const later: string[] = [];
  if (!source) {
    const { secretRef, keyVault } = certificate.spec.certificate;
    const ref = keyVault
      ? `Key Vault certificate ${keyVault.name} of vault ${keyVault.vault}`
      : secretRef
        ? `Secret ${secretRef.name}`
        : `ConfigMap ${certificate.spec.certificate.configMapRef?.name ?? ''}`;
    return {
      level: 'pending',
      reason: 'ResolvedAtApplyTime',
      message: `the certificate source (${ref}) is not in the input; it is resolved at apply time`,
    };
  }
  if (!account) later.push(`IntegrationAccount ${accountName}, its quota and vaults`);
  if (certificate.spec.type === 'Private') later.push('the vault key and its grants');
  const evaluation = evaluateCertificate({
    certificate,
    account: account ?? standInAccount(certificate),
    quota: quotaPosition(certificate, account, siblingsOf(certificates, namespace, accountName)),
    source,
    now: options.now,
    allowedVaultHosts: options.allowedVaultHosts,
  });
  const { failure, info } = evaluation;
  if (failure) {
    return {
      level: failure.waiting ? 'pending' : 'fail',
      reason: failure.reason,
      message: failure.message,
    };
  }
  const resolved = later.length ? `; resolved at apply time: ${later.join('; ')}` : '';
  const expiry =
    info && expiryStatus(info, options.now, options.warnExpiringMs ?? expiryWarningMs(certificate));
  if (expiry?.expiring)
    return { level: 'warn', reason: 'ExpiresSoon', message: expiry.message + resolved };
  return {
    level: 'pass',
    reason: 'Valid',
    message: `${certificate.spec.type} certificate ${info?.subject ?? ''}, ${expiry?.message ?? ''}${resolved}`,
  };
}

/**
 * An account that is not in the input: Ready, and with the vault the certificate names, so the
 * certificate's own checks run; what depends on the real account is resolved at apply time.
 */
function standInAccount(certificate: Certificate): IntegrationAccount {
  const vault = certificate.spec.key?.vault;
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: {
      name: certificate.spec.integrationAccount.name,
      namespace: certificate.metadata.namespace,
    },
    spec: vault ? { keyVaults: [{ name: vault, kubernetes: {} }] } : {},
    status: {
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: EPOCH },
      ],
    },
  };
}
const EPOCH = new Date(0).toISOString();
