// The IntegrationAccount reconciler: validate the spec (vault hosts), count the account's
// certificates against the sku quota, and report Ready / Stalled and status.certificates.
import { ConditionType } from '../../api/reasons.ts';
import { findCondition, normalize, sameStatus } from '../../api/conditions.ts';
import {
  API_VERSION,
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../../api/types.ts';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../operator/events.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import { buildAccountStatus } from './status.ts';

// The pure decision lives in status.ts (no Kubernetes client), so `b2b validate` uses it too.
export { buildAccountStatus, type AccountFacts } from './status.ts';

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
