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

/** Whether an assignment at `scope` applies to `target` (the same resource or one below it). */
export function scopeCovers(scope: string, target: string): boolean {
  const s = scope.replace(/\/$/, '').toLowerCase();
  const t = target.toLowerCase();
  return s === '' || t === s || t.startsWith(`${s}/`);
}

export function vaultKeyScope(vaultResourceId: string, keyName: string): string {
  return `${vaultResourceId}/keys/${keyName}`;
}

/** Parts of a vault's resource ID, for the Key Vault management client. */
export function parseVaultId(
  id: string,
): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.KeyVault\/(?:vaults|managedHSMs)\/([^/]+)$/i.exec(
      id,
    );
  return m ? { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! } : undefined;
}
