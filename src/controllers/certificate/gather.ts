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
import { quotaPosition, quotaSku, sourceFromObject, type DataObject } from './source-data.ts';

// The pure parts live in source-data.ts (no Kubernetes client), so `b2b validate` uses them too.
export { quotaPosition, quotaSku } from './source-data.ts';

/**
 * The certificate's place in its account's quota. The account's certificates are listed (and
 * sorted) only when there may be more than the quota: not once per reconcile of every one.
 */
export function quotaPlace(
  certificate: Certificate,
  account: IntegrationAccount | undefined,
  lookups: Lookups,
): { rank: number; quota: number } {
  const { namespace } = certificate.metadata;
  const name = certificate.spec.integrationAccount.name;
  const quota = skuQuota[quotaSku(account)];
  if (lookups.certificateCount(namespace, name) <= quota) return { rank: 0, quota };
  return quotaPosition(certificate, account, lookups.certificatesOf(namespace, name));
}

export interface Lookups {
  account(namespace: string, name: string): IntegrationAccount | undefined;
  certificatesOf(namespace: string, account: string): Certificate[];
  /** How many certificates name the account, those being deleted included (no list built). */
  certificateCount(namespace: string, account: string): number;
  secretExists(namespace: string, name: string): boolean;
  configMapExists(namespace: string, name: string): boolean;
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
