// The IntegrationAccount reconciler: validate the spec (vault hosts), count the account's
// certificates against the sku quota, and report Ready / Stalled and status.certificates.
import { ConditionType, Reason } from '../../api/reasons.ts';
import {
  findCondition,
  mergeConditions,
  normalize,
  sameStatus,
  type DesiredCondition,
} from '../../api/conditions.ts';
import {
  API_VERSION,
  IntegrationAccountResource,
  skuQuota,
  type Certificate,
  type IntegrationAccount,
  type IntegrationAccountStatus,
} from '../../api/types.ts';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../operator/events.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
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

export interface AccountReconcilerDeps {
  client: KubeClient;
  account(key: string): IntegrationAccount | undefined;
  certificatesOf(namespace: string, account: string): Certificate[];
  events: EventRecorder;
  allowedVaultHosts: readonly string[];
  now: () => Date;
}

export class IntegrationAccountReconciler {
  private readonly deps: AccountReconcilerDeps;

  constructor(deps: AccountReconcilerDeps) {
    this.deps = deps;
  }

  reconcile = async (key: string): Promise<ReconcileResult | undefined> => {
    const account = this.deps.account(key);
    if (!account || account.metadata.deletionTimestamp) return undefined;
    const { namespace, name } = account.metadata;
    const status = buildAccountStatus({
      account,
      certificates: this.deps.certificatesOf(namespace, name),
      allowedVaultHosts: this.deps.allowedVaultHosts,
      now: this.deps.now(),
    });
    if (sameStatus(account.status, status)) return undefined;
    await this.deps.client.patch(
      resourcePath(IntegrationAccountResource, { namespace, name, subresource: 'status' }),
      {
        status: normalize(status),
      },
    );
    const before = findCondition(account.status?.conditions, ConditionType.Ready);
    const after = findCondition(status.conditions, ConditionType.Ready);
    if (after && (before?.status !== after.status || before.reason !== after.reason)) {
      await this.deps.events.record(
        { apiVersion: API_VERSION, kind: 'IntegrationAccount', metadata: account.metadata },
        after.status === 'True' ? 'Normal' : 'Warning',
        after.reason,
        after.message,
      );
    }
    return undefined;
  };
}
