// How an account or vault signs in to Azure (spec ... auth), and the ServiceAccount behind a
// workload identity: no Azure SDK here, so that code which only needs these (the azure store's
// identity checks) does not load @azure/identity at start-up (~25 MiB of modules).
import {
  IdentityError,
  type ServiceAccountIdentities,
  type ServiceAccountIdentity,
} from '../../identity/service-account.ts';
import { Reason } from '../../api/reasons.ts';

export interface AzureAuth {
  workloadIdentity?:
    | {
        serviceAccountName?: string | undefined;
        clientId?: string | undefined;
        tenantId?: string | undefined;
      }
    | undefined;
  managedIdentity?: { clientId?: string | undefined } | undefined;
  servicePrincipal?:
    | { tenantId: string; clientId: string; clientSecretRef: { name: string; key: string } }
    | undefined;
}

/**
 * The ServiceAccount's identity of a workloadIdentity with serviceAccountName (undefined for
 * the other methods). Rejects with an IdentityError.
 */
export async function resolveServiceAccount(
  namespace: string,
  auth: AzureAuth,
  serviceAccounts: ServiceAccountIdentities | undefined,
): Promise<ServiceAccountIdentity | undefined> {
  const wi = auth.workloadIdentity;
  if (!wi?.serviceAccountName) return undefined;
  if (!serviceAccounts)
    throw new IdentityError(
      Reason.AuthenticationFailed,
      'this process cannot request ServiceAccount tokens',
    );
  return serviceAccounts.identity(namespace, wi.serviceAccountName, {
    clientId: wi.clientId,
    tenantId: wi.tenantId,
  });
}
