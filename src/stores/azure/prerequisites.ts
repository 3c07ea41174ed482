// The seed's prerequisites, checked before the azure store writes: the integration account
// exists (and its real sku), and for a Private certificate the Azure Logic Apps service
// principal can use the key, then the service's own view (listKeyVaultKeys lists the key).
// Each failure carries its own reason and says how to fix it. Results are cached for the
// recheck interval; transient failures are not cached, and expired results are swept, so the
// cache holds what was asked within one interval, not every spec an account ever had.
import { Reason } from '../../api/reasons.ts';
import { StorePrerequisiteError } from '../store.ts';
import { LOGIC_APPS_APP_ID, parseVaultId, vaultKeyScope } from './arm-ids.ts';
import { ArmError, type ArmRequests } from './arm-requests.ts';
import type { AzureClients } from './clients.ts';
import {
  grantedByPolicies,
  grantedByRoles,
  missingAccessMessage,
  missingOperations,
  settledByListing,
  type AssignedRole,
} from './logic-apps-access.ts';

export interface AzureAccountInfo {
  id: string;
  location: string;
  sku: string;
}

export interface KeyToCheck {
  vaultResourceId: string;
  name: string;
}

const deniedAction = (err: ArmError): string | undefined =>
  /perform action '([^']+)'/.exec(err.failure.message)?.[1];

/** A failure that is not about the check itself: ARM throttling or down. */
function transientFailure(err: ArmError): StorePrerequisiteError {
  return new StorePrerequisiteError(
    Reason.StoreWriteFailed,
    `Azure Resource Manager did not answer: ${err.message}; retrying`,
    false,
    err.failure.retryAfterMs,
  );
}

/** The operator may not read what a check needs: name the permission. */
function unverifiable(err: ArmError, permission: string, scope: string): StorePrerequisiteError {
  return new StorePrerequisiteError(
    Reason.LogicAppsAccessUnverifiable,
    `cannot check whether the Azure Logic Apps service principal may use the key: the identity the account signs in with lacks ${deniedAction(err) ?? permission} on ${scope} (ARM ${err.failure.status ?? ''} ${err.failure.code ?? ''}); grant it ${permission} there (docs/operations.md lists the roles)`,
    true,
  );
}

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

export class Prerequisites {
  private readonly requests: ArmRequests;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, Cached<unknown>>();
  private lastSweep: number;

  constructor(requests: ArmRequests, ttlMs: number, now: () => number = Date.now) {
    this.requests = requests;
    this.ttlMs = ttlMs;
    this.now = now;
    this.lastSweep = now();
  }

  /** Entries held (tests). */
  get size(): number {
    return this.cache.size;
  }

  /** Coalesces concurrent checks and keeps results (and terminal failures) for the TTL. */
  private cached<T>(key: string, run: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key) as Cached<T> | undefined;
    if (hit && this.now() - hit.at < this.ttlMs) return hit.value;
    this.sweep();
    const value = run();
    this.cache.set(key, { at: this.now(), value });
    value.catch((err: unknown) => {
      const keep = err instanceof StorePrerequisiteError && err.terminal;
      if (!keep && this.cache.get(key)?.value === value) this.cache.delete(key);
    });
    return value;
  }

  /** Expired entries (a key, a spec, nobody asks about any more), once an interval. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < this.ttlMs) return;
    this.lastSweep = now;
    for (const [key, entry] of this.cache) if (now - entry.at >= this.ttlMs) this.cache.delete(key);
  }

  /** Forgets what was learnt through a connection (its account's spec changed, or is gone). */
  forget(connectionKey: string): void {
    const prefix = `${connectionKey}|`;
    for (const key of this.cache.keys()) if (key.startsWith(prefix)) this.cache.delete(key);
  }

  account(clients: AzureClients, cacheKey: string): Promise<AzureAccountInfo> {
    const { subscriptionId, resourceGroup, name } = clients.spec;
    return this.cached(`${cacheKey}|account`, async () => {
      try {
        const account = await this.requests.run(
          subscriptionId,
          'integrationAccounts.get',
          (abortSignal) =>
            clients.logic.integrationAccounts.get(resourceGroup, name, { abortSignal }),
        );
        return {
          id: account.id ?? '',
          location: account.location ?? '',
          sku: account.sku?.name ?? '',
        };
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        if (err.status === 404)
          throw new StorePrerequisiteError(
            Reason.AzureAccountNotFound,
            `the Azure integration account ${name} does not exist in resource group ${resourceGroup} of subscription ${subscriptionId} (ARM 404 ${err.failure.code ?? ''}); create it, or correct spec.store.azure of the IntegrationAccount`,
            true,
          );
        if (err.status === 403) throw authorizationFailed(err, `integration account ${name}`);
        if (err.transient) throw transientFailure(err);
        throw err;
      }
    });
  }

  /** The Logic Apps service principal may list, get, decrypt and sign with the key, and sees it. */
  async keyUsableByLogicApps(
    clients: AzureClients,
    cacheKey: string,
    key: KeyToCheck,
  ): Promise<void> {
    return this.cached(
      `${cacheKey}|key|${key.vaultResourceId.toLowerCase()}|${key.name}`,
      async () => {
        const principalId = await this.logicAppsPrincipal(clients, cacheKey);
        await this.grants(clients, principalId, key);
        await this.listedByAccount(clients, key);
      },
    );
  }

  private logicAppsPrincipal(clients: AzureClients, cacheKey: string): Promise<string> {
    const configured = clients.spec.logicAppsPrincipalId;
    if (configured) return Promise.resolve(configured);
    return this.cached(`${cacheKey}|principal`, async () => {
      try {
        return await this.requests.run(
          clients.spec.subscriptionId,
          'graph.servicePrincipals.get',
          (abortSignal) => clients.servicePrincipalObjectId(LOGIC_APPS_APP_ID, abortSignal),
        );
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        if (err.transient) throw transientFailure(err);
        throw new StorePrerequisiteError(
          Reason.LogicAppsAccessUnverifiable,
          `cannot look up the Azure Logic Apps service principal (application ID ${LOGIC_APPS_APP_ID}) in Microsoft Graph: ${err.failure.status ?? ''} ${err.failure.code ?? ''} ${err.failure.message}; set spec.store.azure.logicAppsPrincipalId to its object ID (az ad sp show --id ${LOGIC_APPS_APP_ID} --query id -o tsv), or grant the identity the account signs in with the Microsoft Graph permission Application.Read.All`,
          true,
        );
      }
    });
  }

  private async grants(clients: AzureClients, principalId: string, key: KeyToCheck): Promise<void> {
    const vaultId = parseVaultId(key.vaultResourceId);
    if (!vaultId)
      throw new StorePrerequisiteError(
        Reason.LogicAppsAccessUnverifiable,
        `key vault resourceId ${key.vaultResourceId} is not a Key Vault vault's resource ID (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>); an integration account cannot use keys of a Managed HSM`,
        true,
      );
    const { subscriptionId } = vaultId;
    let vault;
    try {
      vault = await this.requests.run(subscriptionId, 'vaults.get', (abortSignal) =>
        clients
          .keyVault(subscriptionId)
          .vaults.get(vaultId.resourceGroup, vaultId.name, { abortSignal }),
      );
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      if (err.transient) throw transientFailure(err);
      throw unverifiable(err, 'Microsoft.KeyVault/vaults/read', key.vaultResourceId);
    }
    const rbac = vault.properties.enableRbacAuthorization === true;
    const keyScope = vaultKeyScope(key.vaultResourceId, key.name);
    const granted = rbac
      ? grantedByRoles(
          await this.assignedRoles(clients, subscriptionId, principalId, keyScope),
          keyScope,
        )
      : grantedByPolicies(
          vault.properties.accessPolicies ?? [],
          principalId,
          vault.properties.tenantId,
        );
    const missing = missingOperations(granted);
    if (missing.some((op) => !settledByListing(op, rbac)))
      throw new StorePrerequisiteError(
        Reason.LogicAppsKeyAccessMissing,
        missingAccessMessage({
          rbac,
          missing,
          keyName: key.name,
          vaultResourceId: key.vaultResourceId,
          principalId,
        }),
        true,
      );
  }

  private async assignedRoles(
    clients: AzureClients,
    subscriptionId: string,
    principalId: string,
    keyScope: string,
  ): Promise<AssignedRole[]> {
    const authorization = clients.authorization(subscriptionId);
    const assignments: { scope: string; roleDefinitionId: string }[] = [];
    try {
      await this.requests.run(
        subscriptionId,
        'roleAssignments.listForScope',
        async (abortSignal) => {
          assignments.length = 0;
          for await (const a of authorization.roleAssignments.listForScope(
            keyScope.replace(/^\//, ''),
            {
              filter: `assignedTo('${principalId}')`,
              abortSignal,
            },
          ))
            if (a.scope && a.roleDefinitionId)
              assignments.push({ scope: a.scope, roleDefinitionId: a.roleDefinitionId });
        },
      );
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      if (err.transient) throw transientFailure(err);
      throw unverifiable(err, 'Microsoft.Authorization/roleAssignments/read', keyScope);
    }
    const roles: AssignedRole[] = [];
    for (const a of assignments) {
      try {
        const definition = await this.requests.run(
          subscriptionId,
          'roleDefinitions.getById',
          (abortSignal) =>
            authorization.roleDefinitions.getById(a.roleDefinitionId.replace(/^\//, ''), {
              abortSignal,
            }),
        );
        roles.push({
          scope: a.scope,
          roleName: definition.roleName ?? '',
          permissions: definition.permissions ?? [],
        });
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        if (err.transient) throw transientFailure(err);
        throw unverifiable(err, 'Microsoft.Authorization/roleDefinitions/read', a.roleDefinitionId);
      }
    }
    return roles;
  }

  /** The service's own view. The SDK's pager yields only the first page: follow skipToken here. */
  private async listedByAccount(clients: AzureClients, key: KeyToCheck): Promise<void> {
    const { subscriptionId, resourceGroup, name } = clients.spec;
    let skipToken: string | undefined;
    const seen = new Set<string>();
    for (let page = 0; page < 1000; page++) {
      let keys: { kid?: string }[] = [];
      let next: string | undefined;
      try {
        await this.requests.run(
          subscriptionId,
          'integrationAccounts.listKeyVaultKeys',
          async (abortSignal) => {
            keys = [];
            const pager = clients.logic.integrationAccounts.listKeyVaultKeys(
              resourceGroup,
              name,
              { keyVault: { id: key.vaultResourceId }, ...(skipToken ? { skipToken } : {}) },
              {
                abortSignal,
                onResponse: (_raw, flat) => {
                  next = (flat as { skipToken?: string }).skipToken;
                },
              },
            );
            for await (const page of pager.byPage()) {
              keys.push(...page);
              break;
            }
          },
        );
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        if (err.transient) throw transientFailure(err);
        if (err.status === 403 && err.failure.code === 'AuthorizationFailed')
          throw unverifiable(
            err,
            'Microsoft.Logic/integrationAccounts/listKeyVaultKeys/action',
            clients.spec.name,
          );
        throw new StorePrerequisiteError(
          Reason.KeyNotListedByIntegrationAccount,
          `the integration account ${name} cannot list the keys of ${key.vaultResourceId}: ${err.failure.code ?? ''} ${err.failure.message}; grant the Azure Logic Apps service principal list and get on the vault's keys`,
          true,
        );
      }
      if (
        keys.some(
          (k) => k.kid?.toLowerCase().split('/keys/')[1]?.split('/')[0] === key.name.toLowerCase(),
        )
      )
        return;
      if (!next || seen.has(next)) break;
      seen.add(next);
      skipToken = next;
    }
    throw new StorePrerequisiteError(
      Reason.KeyNotListedByIntegrationAccount,
      `the integration account ${name} does not list key ${key.name} of ${key.vaultResourceId} (listKeyVaultKeys, the service's own view): grant the Azure Logic Apps service principal list and get on the key, and check the vault's firewall lets trusted Azure services in`,
      true,
    );
  }
}

export function authorizationFailed(err: ArmError, what: string): StorePrerequisiteError {
  const action = deniedAction(err);
  return new StorePrerequisiteError(
    Reason.AzureAuthorizationFailed,
    `the identity the account signs in with may not ${action ? `perform ${action}` : 'access'} on the Azure ${what} (ARM 403 ${err.failure.code ?? ''}); grant it that action, e.g. the Logic App Contributor role on the integration account (docs/operations.md)`,
    true,
  );
}
