// Gathering the facts of one Certificate: its account, its place in the account's quota, and
// its certificate source. Reads come from the caches; Secret and ConfigMap data are fetched
// only when the metadata cache says the object exists.
import { skuQuota, type Certificate, type IntegrationAccount } from '../../api/types.ts';
import {
  ConfigMapType,
  SecretType,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../../kube/client.ts';
import type { SourceState } from './evaluate.ts';

export interface Lookups {
  account(namespace: string, name: string): IntegrationAccount | undefined;
  certificatesOf(namespace: string, account: string): Certificate[];
  secretExists(namespace: string, name: string): boolean;
  configMapExists(namespace: string, name: string): boolean;
}

const byAge = (a: Certificate, b: Certificate): number => {
  const ta = a.metadata.creationTimestamp ? new Date(a.metadata.creationTimestamp).getTime() : 0;
  const tb = b.metadata.creationTimestamp ? new Date(b.metadata.creationTimestamp).getTime() : 0;
  return ta - tb || a.metadata.name.localeCompare(b.metadata.name);
};

/** Oldest first by creation time, then name: the same answer on every run. */
export function quotaPosition(
  certificate: Certificate,
  account: IntegrationAccount | undefined,
  siblings: readonly Certificate[],
): { rank: number; quota: number } {
  const quota = skuQuota[account?.spec.sku ?? 'Standard'];
  if (siblings.length <= quota) return { rank: 0, quota };
  const ordered = [...siblings].sort(byAge);
  const rank = ordered.findIndex((c) => c.metadata.uid === certificate.metadata.uid);
  return { rank: rank < 0 ? ordered.length : rank, quota };
}

export interface DataObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export async function readSource(
  client: KubeClient,
  lookups: Lookups,
  certificate: Certificate,
): Promise<SourceState> {
  const { certificate: source } = certificate.spec;
  const namespace = certificate.metadata.namespace;
  if (source.inline !== undefined) return { found: true, data: source.inline };
  const ref = source.secretRef ?? source.configMapRef;
  if (!ref) return { found: false, message: 'spec.certificate names no source' };
  const isSecret = source.secretRef !== undefined;
  const what = isSecret ? 'Secret' : 'ConfigMap';
  const key = ref.key ?? 'tls.crt';
  const exists = isSecret
    ? lookups.secretExists(namespace, ref.name)
    : lookups.configMapExists(namespace, ref.name);
  const notFound: SourceState = {
    found: false,
    message: `${what} ${ref.name} not found in namespace ${namespace}; waiting for it`,
  };
  if (!exists) return notFound;
  let object: DataObject;
  try {
    object = await client.get<DataObject>(
      resourcePath(isSecret ? SecretType : ConfigMapType, { namespace, name: ref.name }),
    );
  } catch (err) {
    if (isNotFound(err)) return notFound;
    throw err;
  }
  return sourceFromObject(what, ref.name, object, key);
}

/** What a Secret's or ConfigMap's `key` holds: Secret data and ConfigMap binaryData are base64. */
export function sourceFromObject(
  what: 'Secret' | 'ConfigMap',
  name: string,
  object: DataObject,
  key: string,
): SourceState {
  const isSecret = what === 'Secret';
  const text = isSecret ? undefined : object.data?.[key];
  const encoded = isSecret ? object.data?.[key] : object.binaryData?.[key];
  if (text !== undefined) return { found: true, data: text };
  if (encoded !== undefined) return { found: true, data: Buffer.from(encoded, 'base64') };
  const keys = [...Object.keys(object.data ?? {}), ...Object.keys(object.binaryData ?? {})];
  return {
    found: false,
    message: `${what} ${name} has no key ${key} (its keys: ${keys.join(', ') || 'none'}); waiting for it`,
  };
}
