// Whose Azure identity an IntegrationAccount may make the operator use (--azure-identity-policy).
// Pure: the spec's auth, the object's namespace and the policy in; a verdict out. Checked before
// any credential is made, so a refused identity costs no token request anywhere.
import { Reason } from '../api/reasons.ts';
import type { AzureAuth } from '../vaults/azure/credentials.ts';

export const AZURE_IDENTITY_POLICIES = ['operator', 'serviceAccount'] as const;
export type AzureIdentityPolicy = (typeof AZURE_IDENTITY_POLICIES)[number];

export interface IdentityPolicy {
  mode: AzureIdentityPolicy;
  /** Where the operator runs: its own identity stays usable there (the cluster admin's objects). */
  operatorNamespace: string;
}

export type IdentityVerdict =
  { ok: true } | { ok: false; reason: typeof Reason.IdentityNotAllowed; message: string };

/**
 * What an auth signs in as, unless it is an identity the object's namespace holds (a
 * ServiceAccount of it, or a service principal whose secret is in it). Deny by default: an auth
 * naming no method (a status record someone emptied) is refused too.
 */
function operatorIdentityMethod(auth: AzureAuth): string | undefined {
  if (auth.servicePrincipal || auth.workloadIdentity?.serviceAccountName) return undefined;
  if (auth.managedIdentity) return 'managedIdentity';
  if (auth.workloadIdentity) return 'workloadIdentity without serviceAccountName';
  return 'no sign-in method (the operator would fall back to its own)';
}

export function checkIdentityAllowed(
  auth: AzureAuth | undefined,
  namespace: string,
  policy: IdentityPolicy | undefined,
): IdentityVerdict {
  if (!auth || !policy || policy.mode === 'operator') return { ok: true };
  if (namespace === policy.operatorNamespace) return { ok: true };
  const method = operatorIdentityMethod(auth);
  if (!method) return { ok: true };
  return {
    ok: false,
    reason: Reason.IdentityNotAllowed,
    message: `auth ${method} is the operator's own Azure identity, which --azure-identity-policy=serviceAccount allows only in namespace ${policy.operatorNamespace}; no token was requested. Set auth.workloadIdentity.serviceAccountName to a ServiceAccount of namespace ${namespace} whose Azure identity trusts it (docs/security.md), or use a servicePrincipal`,
  };
}
