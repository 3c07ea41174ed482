// Does the Azure Logic Apps service principal hold list, get, decrypt and sign on a key? Pure
// decisions over what ARM reports: role assignments and their role definitions for an RBAC
// vault (dataActions with wildcards, minus notDataActions), or the vault's access policies.
import { scopeCovers } from './arm-ids.ts';

export const KEY_OPERATIONS = ['list', 'get', 'decrypt', 'sign'] as const;
export type KeyOperation = (typeof KEY_OPERATIONS)[number];

/** The Key Vault data action each operation needs (Azure's RBAC reference for Key Vault). */
export const dataActionFor: Record<KeyOperation, string> = {
  list: 'Microsoft.KeyVault/vaults/keys/read',
  get: 'Microsoft.KeyVault/vaults/keys/read',
  decrypt: 'Microsoft.KeyVault/vaults/keys/decrypt/action',
  sign: 'Microsoft.KeyVault/vaults/keys/sign/action',
};

export interface RolePermission {
  dataActions?: string[] | undefined;
  notDataActions?: string[] | undefined;
}

export interface AssignedRole {
  scope: string;
  roleName: string;
  permissions: RolePermission[];
}

export interface AccessPolicy {
  tenantId?: string | undefined;
  objectId?: string | undefined;
  applicationId?: string | undefined;
  permissions?: { keys?: string[] | undefined } | undefined;
}

/** ARM's wildcard match: `*` stands for any characters; case does not matter. */
export function actionMatches(pattern: string, action: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i').test(action);
}

function permits(permission: RolePermission, action: string): boolean {
  return (
    (permission.dataActions ?? []).some((p) => actionMatches(p, action)) &&
    !(permission.notDataActions ?? []).some((p) => actionMatches(p, action))
  );
}

/**
 * Operations granted by the roles ARM listed for the key's scope that apply there (at it or
 * above it, management groups included). Deny assignments and ABAC conditions are not read:
 * they can only take away, so this may grant too much, never too little (API.md).
 */
export function grantedByRoles(roles: readonly AssignedRole[], keyScope: string): KeyOperation[] {
  const applicable = roles.filter((r) => scopeCovers(r.scope, keyScope));
  return KEY_OPERATIONS.filter((op) =>
    applicable.some((r) => r.permissions.some((p) => permits(p, dataActionFor[op]))),
  );
}

/** Operations granted by an access policy of the principal (not a compound identity). */
export function grantedByPolicies(
  policies: readonly AccessPolicy[],
  objectId: string,
  tenantId: string | undefined,
): KeyOperation[] {
  const own = policies.filter(
    (p) =>
      p.objectId?.toLowerCase() === objectId.toLowerCase() &&
      !p.applicationId &&
      (!tenantId || !p.tenantId || p.tenantId.toLowerCase() === tenantId.toLowerCase()),
  );
  const keys = new Set(own.flatMap((p) => p.permissions?.keys ?? []).map((k) => k.toLowerCase()));
  return KEY_OPERATIONS.filter((op) => keys.has('all') || keys.has(op));
}

export function missingOperations(granted: readonly KeyOperation[]): KeyOperation[] {
  return KEY_OPERATIONS.filter((op) => !granted.includes(op));
}

/**
 * Whether the service's own call (listKeyVaultKeys, run after this check) can show that `op`
 * works: listing the key is `list`, and in an RBAC vault `get` too (both are the data action
 * keys/read). Such an operation found missing is left to that call, which has the last word:
 * a grant the evaluation cannot see (a group's access policy, say) must not fail the check.
 */
export function settledByListing(op: KeyOperation, rbac: boolean): boolean {
  return op === 'list' || (rbac && op === 'get');
}

/** The how-to-fix message for a key the Logic Apps service cannot use. */
export function missingAccessMessage(options: {
  rbac: boolean;
  missing: readonly KeyOperation[];
  keyName: string;
  vaultResourceId: string;
  principalId: string;
}): string {
  const { rbac, missing, keyName, vaultResourceId, principalId } = options;
  const how = rbac
    ? `assign it a role with the data actions ${[...new Set(missing.map((op) => dataActionFor[op]))].join(', ')} (e.g. Key Vault Crypto User) at the vault or key scope`
    : `add an access policy for object ID ${principalId} with key permissions list, get, decrypt and sign`;
  return `the Azure Logic Apps service principal (application ID 7cd684f4-8a78-49b0-91ec-6a35d38739ba, object ID ${principalId}) lacks ${missing.join(', ')} on key ${keyName} in ${vaultResourceId}; ${how}`;
}
