// The operator's Azure identity for one vault connection, from the account's spec: workload
// identity (the AKS webhook's environment), managed identity, or a service principal whose
// secret is in a Secret. The authority follows the vault's cloud (public, China, US Gov).
import {
  AzureAuthorityHosts,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';

export interface AzureAuth {
  workloadIdentity?: { clientId?: string | undefined; tenantId?: string | undefined } | undefined;
  managedIdentity?: { clientId?: string | undefined } | undefined;
  servicePrincipal?:
    | { tenantId: string; clientId: string; clientSecretRef: { name: string; key: string } }
    | undefined;
}

export function authorityHostFor(vaultUrl: string): string {
  const host = new URL(vaultUrl).hostname;
  if (host.endsWith('.vault.azure.cn')) return AzureAuthorityHosts.AzureChina;
  if (host.endsWith('.vault.usgovcloudapi.net')) return AzureAuthorityHosts.AzureGovernment;
  return AzureAuthorityHosts.AzurePublicCloud;
}

/** `clientSecret` is read by the caller from the Secret named in servicePrincipal. */
export function createCredential(
  auth: AzureAuth,
  vaultUrl: string,
  clientSecret?: string,
): TokenCredential {
  const authorityHost = authorityHostFor(vaultUrl);
  if (auth.servicePrincipal) {
    if (!clientSecret) throw new Error('the service principal needs its client secret');
    return new ClientSecretCredential(
      auth.servicePrincipal.tenantId,
      auth.servicePrincipal.clientId,
      clientSecret,
      { authorityHost },
    );
  }
  if (auth.workloadIdentity) {
    const { clientId, tenantId } = auth.workloadIdentity;
    return new WorkloadIdentityCredential({
      authorityHost,
      ...(clientId ? { clientId } : {}),
      ...(tenantId ? { tenantId } : {}),
    });
  }
  const clientId = auth.managedIdentity?.clientId;
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}
