// The pure parts of gathering a Certificate's facts: its place in the account's quota, and what
// a Secret or ConfigMap holds. No Kubernetes client here, so `b2b validate` uses them as well.
import { Reason } from '../../api/reasons.ts';
import { skuQuota, type Certificate, type IntegrationAccount, type Sku } from '../../api/types.ts';
import type { SourceState } from './evaluate.ts';

/** The azure store's real sku (status.azure, as ARM reports it) decides, else spec.sku. */
export function quotaSku(account: IntegrationAccount | undefined): Sku {
  const real = account?.spec.store?.azure ? account.status?.azure?.sku : undefined;
  return real && real in skuQuota ? (real as Sku) : (account?.spec.sku ?? 'Standard');
}

const createdAt = (c: Certificate): number =>
  c.metadata.creationTimestamp ? new Date(c.metadata.creationTimestamp).getTime() : 0;

/** Has been written to the store: it holds its slot against newcomers. */
const holdsSlot = (c: Certificate): number => (c.status?.store?.ref ? 0 : 1);

/**
 * Certificates already in the store first, then oldest first, then by name: a newcomer never
 * pushes out a synced certificate, even created in the same second (timestamps have 1 s
 * resolution) with a name that sorts first.
 */
const byPlace = (a: Certificate, b: Certificate): number =>
  holdsSlot(a) - holdsSlot(b) ||
  createdAt(a) - createdAt(b) ||
  byCodeUnits(a.metadata.name, b.metadata.name);

/** Names are ASCII; localeCompare would load ICU's collation data (3 MiB of RSS) for nothing. */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Reasons of a terminal check that fails before the store: only a new certificate or vault
 * configuration fixes them. QuotaExceeded is not one of them: such a certificate waits for a place.
 */
const NEVER_STORED_REASONS: ReadonlySet<string> = new Set([
  Reason.InvalidCertificate,
  Reason.PrivateKeyInCertificate,
  Reason.CertificateExpired,
  Reason.UnsupportedKeyAlgorithm,
  Reason.MissingDataEncipherment,
  Reason.VaultNotConfigured,
  Reason.VaultHostNotAllowed,
]);

/**
 * Stalled, for its current spec, on a check before the store, and nothing of it in the store:
 * it takes no quota place. An expired certificate's last good version still takes one.
 */
export function neverStorable(c: Certificate): boolean {
  const stalled = c.status?.conditions?.find((x) => x.type === 'Stalled' && x.status === 'True');
  return (
    stalled !== undefined &&
    !c.status?.store?.ref &&
    NEVER_STORED_REASONS.has(stalled.reason) &&
    c.status?.observedGeneration === (c.metadata.generation ?? 0)
  );
}

/** The certificate's place among its account's certificates: the same answer on every run. */
export function quotaPosition(
  certificate: Certificate,
  account: IntegrationAccount | undefined,
  all: readonly Certificate[],
): { rank: number; quota: number } {
  const quota = skuQuota[quotaSku(account)];
  const siblings = all.filter(
    (c) => c.metadata.uid === certificate.metadata.uid || !neverStorable(c),
  );
  if (siblings.length <= quota) return { rank: 0, quota };
  const ordered = [...siblings].sort(byPlace);
  const rank = ordered.findIndex((c) => c.metadata.uid === certificate.metadata.uid);
  return { rank: rank < 0 ? ordered.length : rank, quota };
}

export interface DataObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
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
