// The status an IntegrationAccount should have, from gathered facts: Ready says whether the
// account itself is usable; each vault's health is in status.keyVaults, so that one vault's
// problem stays with the certificates that use it.
import { ConditionType, Reason } from '../../api/reasons.ts';
import { findCondition, mergeConditions, type DesiredCondition } from '../../api/conditions.ts';
import {
  skuQuota,
  type Certificate,
  type IntegrationAccount,
  type IntegrationAccountStatus,
} from '../../api/types.ts';
import type { AzureAccountInfo } from '../../stores/azure/prerequisites.ts';
import type { IdentityPolicy } from '../../identity/policy.ts';
import { vaultConnection, type KeyVaultSpec } from '../../vaults/connection.ts';
import { neverStorable, quotaSku } from '../certificate/source-data.ts';
import type { VaultConnection } from '../../vaults/verifier.ts';

/** Failures of the account's identity that only a change fixes: no passing outage. */
const IDENTITY_GONE: readonly string[] = [
  Reason.ServiceAccountNotFound,
  Reason.ServiceAccountNotAnnotated,
];

export type KeyVaultStatus = NonNullable<IntegrationAccountStatus['keyVaults']>[number];

/** What is known of one configured vault: its connection refused, or the last probe's result. */
export interface VaultHealth {
  name: string;
  reachable: boolean;
  reason: string;
  message: string;
  checkedAt: Date;
}

/**
 * What the spec alone says of a vault: refused (a host outside the allow-list), or reachable
 * (a kubernetes vault: its keys are Secrets read through the API server the operator already
 * talks to); an Azure vault that is allowed needs a probe, so its connection is returned.
 */
export function vaultFromSpec(
  spec: KeyVaultSpec,
  namespace: string,
  allowedVaultHosts: readonly string[],
  now: Date,
  identityPolicy?: IdentityPolicy,
): VaultHealth | { probe: VaultConnection } {
  const connection = vaultConnection(spec, namespace, allowedVaultHosts, identityPolicy);
  if (!connection.ok) {
    const { reason, message } = connection;
    return { name: spec.name, reachable: false, reason, message, checkedAt: now };
  }
  if (connection.vault.kind === 'kubernetes')
    return {
      name: spec.name,
      reachable: true,
      reason: Reason.Reachable,
      message: '',
      checkedAt: now,
    };
  return { probe: connection.vault };
}

/** The vaults whose health the spec alone decides (what `b2b validate` can know offline). */
export function vaultsFromSpec(
  account: IntegrationAccount,
  allowedVaultHosts: readonly string[],
  now: Date,
): VaultHealth[] {
  return (account.spec.keyVaults ?? [])
    .map((v) => vaultFromSpec(v, account.metadata.namespace, allowedVaultHosts, now))
    .filter((v): v is VaultHealth => !('probe' in v));
}

export interface AccountFacts {
  account: IntegrationAccount;
  /** The azure store's account as ARM reports it; undefined when unknown (kept from before). */
  azure?: AzureAccountInfo | undefined;
  /** Why ARM could not tell (the azure store's prerequisite reason); terminal: not a blip. */
  azureFailure?: { reason: string; message: string; terminal: boolean } | undefined;
  certificates: readonly Certificate[];
  /** In spec order; a vault not probed yet is left out. */
  vaults: readonly VaultHealth[];
  now: Date;
}

const seconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * lastCheckedTime moves only with the result (reachable, reason, message): a steady account
 * costs no status write at each recheck, as lastTransitionTime does for conditions.
 */
export function keyVaultStatus(
  previous: readonly KeyVaultStatus[] | undefined,
  health: VaultHealth,
): KeyVaultStatus {
  const before = previous?.find((v) => v.name === health.name);
  const same =
    before &&
    before.reachable === health.reachable &&
    before.reason === health.reason &&
    (before.message ?? '') === health.message;
  return {
    name: health.name,
    reachable: health.reachable,
    reason: health.reason,
    message: health.message,
    lastCheckedTime:
      same && before.lastCheckedTime ? before.lastCheckedTime : seconds(health.checkedAt),
  };
}

export function buildAccountStatus({
  account,
  certificates,
  vaults,
  now,
  azure,
  azureFailure,
}: AccountFacts): IntegrationAccountStatus {
  // The azure store: the quota of the account's real sku, as ARM reports it.
  const sku = quotaSku(azure ? { ...account, status: { ...account.status, azure } } : account);
  const quota = skuQuota[sku];
  const ready = certificates.filter(
    (c) => findCondition(c.status?.conditions, ConditionType.Ready)?.status === 'True',
  ).length;
  // Certificates that can never be stored take no place in the quota.
  const placed = certificates.filter((c) => !neverStorable(c)).length;
  const over = placed > quota ? `; ${placed - quota} over the ${sku} quota of ${quota}` : '';
  const unusable = vaults
    .filter((v) => !v.reachable)
    .map((v) => `key vault ${v.name} (${v.reason})`);
  const vaultNote = unusable.length
    ? `; not usable: ${unusable.join(', ')}, see status.keyVaults; certificates using other vaults are not affected`
    : '';
  // The azure store's account not seen (never, or gone: a terminal answer), or its identity
  // gone (a ServiceAccount deleted or without its annotations): nothing can be stored there.
  // A blip after it was seen keeps what was known.
  const unreadable =
    account.spec.store?.azure &&
    azureFailure &&
    (azureFailure.terminal ||
      !account.status?.azure ||
      IDENTITY_GONE.includes(azureFailure.reason));
  const desired: DesiredCondition[] = [
    unreadable
      ? {
          type: ConditionType.Ready,
          status: 'False',
          reason: azureFailure.reason,
          message: azureFailure.message,
        }
      : {
          type: ConditionType.Ready,
          status: 'True',
          reason: Reason.Ready,
          message: `the account is ready${over}${vaultNote}`,
        },
  ];
  const generation = account.metadata.generation ?? 0;
  const status: IntegrationAccountStatus = {
    observedGeneration: generation,
    storeType: account.spec.store?.azure ? 'azure' : 'kubernetes',
    conditions: mergeConditions(account.status?.conditions, desired, generation, now),
    certificates: { total: certificates.length, ready, quota },
  };
  if (vaults.length)
    status.keyVaults = vaults.map((v) => keyVaultStatus(account.status?.keyVaults, v));
  if (account.spec.store?.azure && !unreadable) {
    const known = azure ?? account.status?.azure;
    if (known) status.azure = { id: known.id, location: known.location, sku: known.sku };
  }
  return status;
}
