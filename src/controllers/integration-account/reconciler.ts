// The IntegrationAccount reconciler: gathers the account's certificates and the health of each
// of its vaults, and writes Ready and status.certificates / status.keyVaults when they change.
import { ConditionType, Reason } from '../../api/reasons.ts';
import { findCondition, sameStatus, statusPatch } from '../../api/conditions.ts';
import {
  API_VERSION,
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../../api/types.ts';
import { resourcePath, type KubeClient } from '../../kube/client.ts';
import type { IdentityPolicy } from '../../identity/policy.ts';
import type { EventRecorder } from '../../operator/events.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import type { AzureAccountInfo } from '../../stores/azure/prerequisites.ts';
import { StorePrerequisiteError } from '../../stores/store.ts';
import { errorMessage } from '../../operator/log.ts';
import { azureSignInFailure } from '../../vaults/azure/errors.ts';
import { buildAccountStatus, vaultFromSpec, type VaultHealth } from './status.ts';
import type { VaultProbes } from './vault-health.ts';

export interface AccountReconcilerDeps {
  client: KubeClient;
  account(key: string): IntegrationAccount | undefined;
  certificatesOf(namespace: string, account: string): Certificate[];
  events: EventRecorder;
  allowedVaultHosts: readonly string[];
  /** --azure-identity-policy (none: every method allowed). */
  identityPolicy?: IdentityPolicy | undefined;
  /** Azure vaults are left out of status.keyVaults without it. */
  vaultProbes?: VaultProbes | undefined;
  now: () => Date;
  /** The azure store's view of the Azure account; rejects when ARM cannot tell. */
  azureAccount?: (account: IntegrationAccount) => Promise<AzureAccountInfo>;
  recheckIntervalMs?: number;
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
    const { vaults, nextCheckInMs } = await this.vaultHealth(account);
    const { azure, azureFailure } = await this.azureFacts(account);
    const status = buildAccountStatus({
      account,
      certificates: this.deps.certificatesOf(namespace, name),
      vaults,
      now: this.deps.now(),
      azure,
      azureFailure,
    });
    // The Azure account lives outside the cluster: look again at the recheck interval too.
    const recheck = account.spec.store?.azure
      ? (this.deps.recheckIntervalMs ?? 3_600_000)
      : undefined;
    const nextMs = Math.min(nextCheckInMs ?? Infinity, recheck ?? Infinity);
    const next = Number.isFinite(nextMs) ? { requeueAfterMs: nextMs } : undefined;
    // ARM could not tell yet (a timeout, a refused sign-in): status says so, and the reconcile
    // fails so that the controller tries again with backoff, not at the hourly recheck.
    const retry = azureFailure && !azureFailure.terminal ? azureFailure.error : undefined;
    if (sameStatus(account.status, status)) {
      if (retry) throw retry;
      return next;
    }
    await this.deps.client.patch(
      resourcePath(IntegrationAccountResource, { namespace, name, subresource: 'status' }),
      // Conditional (resourceVersion): the conditions list is replaced whole.
      {
        metadata: { resourceVersion: account.metadata.resourceVersion },
        status: statusPatch(account.status, status),
      },
    );
    await this.recordTransitions(account, vaults);
    if (retry) throw retry;
    return next;
  };

  /** When ARM cannot tell, Ready says why (the store's prerequisite reason) and so do certificates. */
  private async azureFacts(account: IntegrationAccount): Promise<{
    azure?: AzureAccountInfo;
    azureFailure?: { reason: string; message: string; terminal: boolean; error: Error };
  }> {
    if (!account.spec.store?.azure || !this.deps.azureAccount) return {};
    try {
      return { azure: await this.deps.azureAccount(account) };
    } catch (err) {
      if (err instanceof StorePrerequisiteError)
        return {
          azureFailure: {
            reason: err.reason,
            message: err.message,
            terminal: err.terminal,
            error: err,
          },
        };
      const signIn = azureSignInFailure(err);
      const message =
        signIn?.message ?? `reading the Azure integration account failed: ${errorMessage(err)}`;
      return {
        azureFailure: {
          reason: signIn?.reason ?? Reason.StoreWriteFailed,
          message,
          terminal: false,
          error: err instanceof Error ? err : new Error(message),
        },
      };
    }
  }

  /** Each vault of the spec, in order: refused by configuration, or probed (when due). */
  private async vaultHealth(
    account: IntegrationAccount,
  ): Promise<{ vaults: VaultHealth[]; nextCheckInMs: number | undefined }> {
    const { namespace } = account.metadata;
    const vaults: VaultHealth[] = [];
    let nextCheckInMs: number | undefined;
    for (const spec of account.spec.keyVaults ?? []) {
      const known = vaultFromSpec(
        spec,
        namespace,
        this.deps.allowedVaultHosts,
        this.deps.now(),
        this.deps.identityPolicy,
      );
      if (!('probe' in known)) vaults.push(known);
      else if (this.deps.vaultProbes) {
        const probed = await this.deps.vaultProbes.health(namespace, known.probe);
        vaults.push(probed.health);
        nextCheckInMs = Math.min(nextCheckInMs ?? Infinity, probed.nextCheckInMs);
      }
    }
    return { vaults, nextCheckInMs };
  }

  private async recordTransitions(
    account: IntegrationAccount,
    vaults: readonly VaultHealth[],
  ): Promise<void> {
    const object = {
      apiVersion: API_VERSION,
      kind: 'IntegrationAccount',
      metadata: account.metadata,
    };
    const before = findCondition(account.status?.conditions, ConditionType.Ready);
    if (before?.status !== 'True')
      await this.deps.events.record(object, 'Normal', Reason.Ready, 'the account is ready');
    for (const v of vaults) {
      const previous = account.status?.keyVaults?.find((p) => p.name === v.name);
      if (previous?.reachable === v.reachable && previous.reason === v.reason) continue;
      if (!v.reachable)
        await this.deps.events.record(
          object,
          'Warning',
          v.reason,
          `key vault ${v.name}: ${v.message}`,
        );
      else if (previous)
        await this.deps.events.record(
          object,
          'Normal',
          Reason.Reachable,
          `key vault ${v.name} is reachable`,
        );
    }
  }
}
