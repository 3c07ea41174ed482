// `b2b import azure`, the ARM edge: reads the integration account, its certificates (every
// page) and the URLs of the vaults their keys are in, with the user's own Azure sign-in
// (DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI, ...).
// Only GETs: importing never changes Azure. Failures become one line that says what to do.
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { LogicManagementClient } from '@azure/arm-logic';
import { AzureAuthorityHosts, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { failureOf } from '../stores/azure/arm-requests.ts';
import { cloudEndpoints, parseVaultId, type AzureCloud } from '../stores/azure/arm-ids.ts';
import type { AzureAccount, AzureEntry } from './import-azure.ts';

export interface AccountLocation {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface ReadOptions {
  cloud: AzureCloud;
  /** --azure-arm-endpoint: overrides the cloud's ARM endpoint (test servers). */
  armEndpoint: string | undefined;
  env: NodeJS.ProcessEnv;
}

export interface AzureSnapshot {
  account: AzureAccount;
  entries: AzureEntry[];
  /** Vault URLs by the vault's resource ID in lower case (vaults ARM let us read). */
  vaultUrls: Map<string, string>;
}

const authorityOf: Record<AzureCloud, string> = {
  AzurePublic: AzureAuthorityHosts.AzurePublicCloud,
  AzureChina: AzureAuthorityHosts.AzureChina,
  AzureUSGovernment: AzureAuthorityHosts.AzureGovernment,
};
const ENTRA_ID_HOSTS = Object.values(AzureAuthorityHosts).map((h) => new URL(h).host);

/** The user's sign-in; AZURE_AUTHORITY_HOST wins over the cloud's Entra ID, as in the operator. */
export function userCredential(cloud: AzureCloud, env: NodeJS.ProcessEnv): TokenCredential {
  const authorityHost = env.AZURE_AUTHORITY_HOST || authorityOf[cloud];
  const known = ENTRA_ID_HOSTS.includes(new URL(authorityHost).host);
  return new DefaultAzureCredential({
    authorityHost,
    ...(known ? {} : { disableInstanceDiscovery: true }),
  });
}

export async function readAzureAccount(
  where: AccountLocation,
  options: ReadOptions,
  credential: TokenCredential = userCredential(options.cloud, options.env),
): Promise<AzureSnapshot> {
  const cloud = cloudEndpoints[options.cloud];
  const clientOptions = {
    endpoint: (options.armEndpoint || cloud.arm).replace(/\/$/, ''),
    retryOptions: { maxRetries: 2 },
  };
  const scopes = [`${cloud.arm}/.default`];
  const logic = new LogicManagementClient(credential, where.subscriptionId, {
    ...clientOptions,
    credentialScopes: scopes,
  });
  const found = await explained(where, () =>
    logic.integrationAccounts.get(where.resourceGroup, where.name),
  );
  const entries = await explained(where, async () => {
    // ARM's own answer (properties.*), not the SDK's flattened model: what the store compares.
    const all: AzureEntry[] = [];
    const pager = logic.integrationAccountCertificates.list(where.resourceGroup, where.name, {
      onResponse: (raw) => {
        const page = JSON.parse(raw.bodyAsText ?? '{}') as { value?: AzureEntry[] };
        all.push(...(page.value ?? []));
      },
    });
    for await (const page of pager.byPage()) void page;
    return all;
  });
  const account: AzureAccount = {
    id: found.id ?? '',
    subscriptionId: where.subscriptionId,
    resourceGroup: where.resourceGroup,
    name: found.name ?? where.name,
    location: found.location,
    sku: found.sku?.name,
  };
  const vaultIds = new Set(
    entries
      .map((e) => e.properties?.key?.keyVault?.id)
      .filter((id): id is string => !!id && !!parseVaultId(id))
      .map((id) => id.toLowerCase().replace(/\/$/, '')),
  );
  const vaultUrls = new Map<string, string>();
  for (const id of vaultIds) {
    const parts = parseVaultId(id)!;
    // A vault of another subscription needs its own client; a vault the user may not read
    // gets its URL from its name (the plan notes it).
    const vaults = new KeyVaultManagementClient(credential, parts.subscriptionId, {
      ...clientOptions,
      credentials: { scopes },
    });
    try {
      const vault = await vaults.vaults.get(parts.resourceGroup, parts.name);
      if (vault.properties.vaultUri) vaultUrls.set(id, vault.properties.vaultUri);
    } catch (err) {
      if (isSignInError(err)) throw new Error(signInMessage(err));
    }
  }
  return { account, entries, vaultUrls };
}

async function explained<T>(where: AccountLocation, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new Error(explainArmError(err, where));
  }
}

const isSignInError = (err: unknown): boolean =>
  err instanceof Error &&
  ['AggregateAuthenticationError', 'CredentialUnavailableError', 'AuthenticationError'].includes(
    err.name,
  );

function signInMessage(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  if (name === 'AuthenticationError') {
    const first = (err as Error).message.split('\n')[0] ?? '';
    return `Azure sign-in failed (${first.slice(0, 300)}); sign in again with \`az login\``;
  }
  return 'not signed in to Azure: run `az login` (then `az account set --subscription <id>`), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal';
}

/** One line for a failed ARM read: what is wrong and what to do. */
export function explainArmError(err: unknown, where: AccountLocation): string {
  if (isSignInError(err)) return signInMessage(err);
  const failure = failureOf(err);
  const account = `integration account ${where.name} in resource group ${where.resourceGroup} of subscription ${where.subscriptionId}`;
  const arm = `ARM ${failure.status ?? 'no answer'}${failure.code ? ` ${failure.code}` : ''}`;
  const requestId = failure.requestId ? `, x-ms-request-id ${failure.requestId}` : '';
  switch (failure.status) {
    case 401:
      return `Azure refused the sign-in token (${arm}${requestId}); sign in again with \`az login\` (with --tenant <tenant> if the subscription is in another tenant)`;
    case 403: {
      const action = /action '([^']+)'/.exec(failure.message)?.[1] ?? 'a read';
      return `your Azure identity may not perform ${action} on the ${account} (${arm}${requestId}); ask for the Reader role (or Logic App Contributor) on the integration account: az role assignment create --role Reader --assignee <you> --scope /subscriptions/${where.subscriptionId}/resourceGroups/${where.resourceGroup}/providers/Microsoft.Logic/integrationAccounts/${where.name}`;
    }
    case 404: {
      const what =
        failure.code === 'ResourceGroupNotFound'
          ? `resource group ${where.resourceGroup} not found in subscription ${where.subscriptionId}`
          : failure.code === 'SubscriptionNotFound'
            ? `subscription ${where.subscriptionId} not found`
            : `${account} not found`;
      return `${what} (${arm}${requestId}); check the ID, and that \`az account show\` is signed in to the tenant of that subscription`;
    }
    default:
      return `reading the ${account} failed (${arm}: ${failure.message.split('\n')[0] ?? ''}${requestId})`;
  }
}
