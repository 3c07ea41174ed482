// The status an IntegrationAccount should have, as a pure function of the account, its
// certificates and the allowed vault hosts (the reconciler writes it; `b2b validate` shows it).
import { ConditionType, Reason } from '../../api/reasons.ts';
import { findCondition, mergeConditions, type DesiredCondition } from '../../api/conditions.ts';
import {
  skuQuota,
  type Certificate,
  type IntegrationAccount,
  type IntegrationAccountStatus,
} from '../../api/types.ts';
import { checkVaultHost } from '../../vaults/hosts.ts';

export interface AccountFacts {
  account: IntegrationAccount;
  certificates: readonly Certificate[];
  allowedVaultHosts: readonly string[];
  now: Date;
}

/** Pure: the status an account should have. */
export function buildAccountStatus({
  account,
  certificates,
  allowedVaultHosts,
  now,
}: AccountFacts): IntegrationAccountStatus {
  const quota = skuQuota[account.spec.sku ?? 'Standard'];
  const ready = certificates.filter(
    (c) => findCondition(c.status?.conditions, ConditionType.Ready)?.status === 'True',
  ).length;
  const badVault = (account.spec.keyVaults ?? [])
    .map((v) => ({
      name: v.name,
      verdict: v.azure
        ? checkVaultHost(v.azure.vaultUrl, allowedVaultHosts)
        : ({ allowed: true } as const),
    }))
    .find((v) => !v.verdict.allowed);
  const desired: DesiredCondition[] = [];
  if (badVault && !badVault.verdict.allowed) {
    const message = `key vault ${badVault.name}: ${badVault.verdict.message}`;
    desired.push(
      { type: ConditionType.Ready, status: 'False', reason: Reason.VaultHostNotAllowed, message },
      { type: ConditionType.Stalled, status: 'True', reason: Reason.VaultHostNotAllowed, message },
    );
  } else {
    const over =
      certificates.length > quota
        ? `; ${certificates.length - quota} over the ${account.spec.sku ?? 'Standard'} quota of ${quota}`
        : '';
    desired.push({
      type: ConditionType.Ready,
      status: 'True',
      reason: Reason.Ready,
      message: `the account is ready${over}`,
    });
  }
  const generation = account.metadata.generation ?? 0;
  const status: IntegrationAccountStatus = {
    observedGeneration: generation,
    storeType: 'kubernetes',
    conditions: mergeConditions(account.status?.conditions, desired, generation, now),
    certificates: { total: certificates.length, ready, quota },
  };
  if (account.status?.keyVaults) status.keyVaults = account.status.keyVaults;
  return status;
}
