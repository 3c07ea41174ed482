// ARM resource IDs and cloud endpoints for the azure store. Pure. ARM answers IDs with other
// casing than sent (`resourcegroups`, `microsoft.keyvault`), so IDs are compared ignoring case.
import type { IntegrationAccountSpec } from '../../api/types.ts';

export type AzureStoreSpec = NonNullable<NonNullable<IntegrationAccountSpec['store']>['azure']>;
export type AzureCloud = NonNullable<AzureStoreSpec['cloud']>;

export interface CloudEndpoints {
  arm: string;
  graph: string;
  /** A Key Vault host of the cloud: the sign-in authority follows it (vaults/azure/credentials.ts). */
  keyVaultUrl: string;
}

export const cloudEndpoints: Record<AzureCloud, CloudEndpoints> = {
  AzurePublic: {
    arm: 'https://management.azure.com',
    graph: 'https://graph.microsoft.com',
    keyVaultUrl: 'https://vault.vault.azure.net',
  },
  AzureChina: {
    arm: 'https://management.chinacloudapi.cn',
    graph: 'https://microsoftgraph.chinacloudapi.cn',
    keyVaultUrl: 'https://vault.vault.azure.cn',
  },
  AzureUSGovernment: {
    arm: 'https://management.usgovcloudapi.net',
    graph: 'https://graph.microsoft.us',
    keyVaultUrl: 'https://vault.vault.usgovcloudapi.net',
  },
};

/** The Azure Logic Apps service principal's application ID, the same in every tenant. */
export const LOGIC_APPS_APP_ID = '7cd684f4-8a78-49b0-91ec-6a35d38739ba';

export function integrationAccountId(spec: AzureStoreSpec): string {
  return `/subscriptions/${spec.subscriptionId}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.Logic/integrationAccounts/${spec.name}`;
}

/** The parts of an integration account's ARM resource ID (what the portal's JSON view shows). */
export function parseIntegrationAccountId(
  id: string,
): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Logic\/integrationAccounts\/([^/]+)\/?$/i.exec(
      id.trim(),
    );
  return m ? { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! } : undefined;
}

export function certificateId(spec: AzureStoreSpec, azureName: string): string {
  return `${integrationAccountId(spec)}/certificates/${azureName}`;
}

export function sameArmId(a: string | undefined, b: string | undefined): boolean {
  const norm = (id: string) => id.replace(/^\/?/, '/').replace(/\/$/, '').toLowerCase();
  return a !== undefined && b !== undefined && norm(a) === norm(b);
}

const MANAGEMENT_GROUP_SCOPE = /^\/providers\/Microsoft\.Management\/managementGroups\/[^/]+\/?$/i;

/**
 * Whether a role assignment that ARM listed for `target` (roleAssignments at that scope) applies
 * to it: at the target or a resource above it by path, at the root, or at a management group.
 * A management group is no path prefix of `/subscriptions/…`, but ARM lists one for a scope only
 * when the scope's subscription sits in it (directly or below), so ARM's list is trusted there.
 */
export function scopeCovers(scope: string, target: string): boolean {
  const s = scope.replace(/\/$/, '').toLowerCase();
  const t = target.toLowerCase();
  return s === '' || t === s || t.startsWith(`${s}/`) || MANAGEMENT_GROUP_SCOPE.test(scope);
}

export function vaultKeyScope(vaultResourceId: string, keyName: string): string {
  return `${vaultResourceId}/keys/${keyName}`;
}

/**
 * Parts of a vault's resource ID, for the Key Vault management client. A Managed HSM
 * (`Microsoft.KeyVault/managedHSMs`) is not one: an integration account references keys of
 * Key Vault vaults, and `vaults.get` does not know an HSM.
 */
export function parseVaultId(
  id: string,
): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.KeyVault\/vaults\/([^/]+)$/i.exec(
      id,
    );
  return m ? { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! } : undefined;
}

/** The parts of an integration account certificate's ARM ID (status.store.ref). */
export function parseCertificateId(
  id: string,
): { subscriptionId: string; resourceGroup: string; account: string; name: string } | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Logic\/integrationAccounts\/([^/]+)\/certificates\/([^/]+)$/i.exec(
      id,
    );
  return m
    ? { subscriptionId: m[1]!, resourceGroup: m[2]!, account: m[3]!, name: m[4]! }
    : undefined;
}
