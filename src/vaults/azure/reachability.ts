// Is an Azure vault usable at all, before any certificate asks? A token is obtained and one
// cheap request sent: list the vault's keys, one per page. Any answer from the vault with a
// valid token (even 403: the identity may lack `list`) means reachable; certificates still
// probe their own key's grants. The probe, its token included, ends by a deadline: the account
// controller runs one account at a time, and a silent vault or sign-in endpoint must not stop
// it for every account of the cluster.
import { KeyClient } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { Reason } from '../../api/reasons.ts';
import { KubeApiError } from '../../kube/client.ts';
import type { Metrics } from '../../operator/metrics.ts';
import type { VaultConnection } from '../verifier.ts';
import type { ServiceAccountIdentities } from '../../identity/service-account.ts';
import { credentialFor, type ReadSecret } from './credentials.ts';
import { requestCountingPolicy } from './client.ts';
import { DEFAULT_AZURE_TIMEOUT_MS, DeadlineExceeded, withDeadline } from './deadline.ts';
import { classifyVaultError } from './errors.ts';

export interface ReachabilityVerdict {
  reachable: boolean;
  reason: Reason;
  message: string;
}

export interface ProbeLimits {
  /** The whole probe (token and request) ends by then; default DEFAULT_AZURE_TIMEOUT_MS. */
  timeoutMs?: number | undefined;
  /** Aborts when the operator cancels its reconciles. */
  signal?: AbortSignal | undefined;
  /** A workloadIdentity with serviceAccountName: the ServiceAccount's token and annotations. */
  serviceAccounts?: ServiceAccountIdentities | undefined;
}

export async function probeVaultReachable(
  vault: VaultConnection,
  credential: TokenCredential,
  metrics?: Metrics,
  limits: ProbeLimits = {},
): Promise<ReachabilityVerdict> {
  const timeoutMs = limits.timeoutMs ?? DEFAULT_AZURE_TIMEOUT_MS;
  const keys = new KeyClient(vault.vaultUrl, credential, {
    disableChallengeResourceVerification: vault.extraHost,
    retryOptions: { maxRetries: 0 },
    // Counts what goes on the wire but the 401 challenge of this new client (see the policy).
    additionalPolicies: [
      {
        policy: requestCountingPolicy((operation, code) =>
          metrics?.keyVaultRequests.inc({ operation, code }),
        ),
        position: 'perRetry',
      },
    ],
  });
  try {
    await withDeadline(
      (abortSignal) => keys.listPropertiesOfKeys({ abortSignal }).byPage({ maxPageSize: 1 }).next(),
      { timeoutMs, what: `${vault.vaultUrl} (or the sign-in for it)`, signal: limits.signal },
    );
    return { reachable: true, reason: Reason.Reachable, message: '' };
  } catch (err) {
    if (limits.signal?.aborted) throw err; // cancelled: no verdict
    if (err instanceof DeadlineExceeded)
      return { reachable: false, reason: Reason.VaultUnavailable, message: err.message };
    const status = (err as { statusCode?: number }).statusCode;
    const error = classifyVaultError(err);
    if (error.reason === Reason.AccessDenied) {
      return {
        reachable: true,
        reason: Reason.Reachable,
        message: `the identity signed in may not list keys in ${vault.vaultUrl} (${error.code}); certificates check the grants on their own key`,
      };
    }
    if (status === 404) {
      return {
        reachable: false,
        reason: Reason.VaultUnavailable,
        message: `${vault.vaultUrl} answered ${error.detail}: no key vault there`,
      };
    }
    const reason =
      error.reason === Reason.AuthenticationFailed ? error.reason : Reason.VaultUnavailable;
    return { reachable: false, reason, message: `${vault.vaultUrl}: ${error.detail}` };
  }
}

/** The account's view: its identity for the vault, then the probe. */
export async function probeAccountVault(
  namespace: string,
  vault: VaultConnection,
  readSecret: ReadSecret,
  metrics?: Metrics,
  limits: ProbeLimits = {},
): Promise<ReachabilityVerdict> {
  let credential: Awaited<ReturnType<typeof credentialFor>>;
  try {
    credential = await credentialFor(
      namespace,
      vault.name,
      vault.vaultUrl,
      vault.azureAuth,
      readSecret,
      limits.timeoutMs,
      limits.serviceAccounts,
    );
  } catch (err) {
    // The service principal's Secret could not be read (RBAC, the API server): this vault's
    // problem, shown in its entry and rechecked like any unreachable vault.
    const ref = vault.azureAuth?.servicePrincipal?.clientSecretRef;
    const what = ref
      ? `the service principal's secret (Secret ${ref.name}, key ${ref.key}) in namespace ${namespace}`
      : `the credential of key vault ${vault.name}`;
    const detail = err instanceof Error ? err.message : String(err);
    const hint =
      err instanceof KubeApiError && err.status === 403
        ? ": grant get on Secrets to the operator's ServiceAccount"
        : '';
    return {
      reachable: false,
      reason: Reason.AuthenticationFailed,
      message: `the operator could not read ${what}${hint} (${detail})`,
    };
  }
  if (!credential.ok)
    return {
      reachable: false,
      reason: credential.reason ?? Reason.AuthenticationFailed,
      message: credential.message,
    };
  return probeVaultReachable(vault, credential.credential, metrics, limits);
}
