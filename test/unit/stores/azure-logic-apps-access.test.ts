// The Logic Apps principal's grants on a key, decided from what ARM reports (pure).
import { describe, expect, it } from 'vitest';
import {
  actionMatches,
  grantedByPolicies,
  grantedByRoles,
  KEY_OPERATIONS,
  missingAccessMessage,
  missingOperations,
  settledByListing,
} from '../../../src/stores/azure/logic-apps-access.ts';

const vault = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv';
const keyScope = `${vault}/keys/signing`;
const cryptoUser = {
  dataActions: [
    'Microsoft.KeyVault/vaults/keys/read',
    'Microsoft.KeyVault/vaults/keys/decrypt/action',
    'Microsoft.KeyVault/vaults/keys/sign/action',
  ],
};

describe('grantedByRoles', () => {
  it('grants all four from a crypto-user role at the vault scope', () => {
    expect(
      grantedByRoles([{ scope: vault, roleName: 'r', permissions: [cryptoUser] }], keyScope),
    ).toEqual(['list', 'get', 'decrypt', 'sign']);
  });

  it('honours wildcards and notDataActions (a role without sign)', () => {
    const roles = [
      {
        scope: '/subscriptions/s',
        roleName: 'all but sign',
        permissions: [
          {
            dataActions: ['Microsoft.KeyVault/vaults/keys/*'],
            notDataActions: ['Microsoft.KeyVault/vaults/keys/sign/action'],
          },
        ],
      },
    ];
    const granted = grantedByRoles(roles, keyScope);
    expect(granted).toEqual(['list', 'get', 'decrypt']);
    expect(missingOperations(granted)).toEqual(['sign']);
  });

  it('counts assignments ARM lists from a management group or the root scope (above every subscription)', () => {
    for (const scope of ['/providers/Microsoft.Management/managementGroups/landing-zone', '/'])
      expect(
        grantedByRoles([{ scope, roleName: 'r', permissions: [cryptoUser] }], keyScope),
      ).toEqual(['list', 'get', 'decrypt', 'sign']);
  });

  it('ignores assignments at another key, another vault with a common prefix, or below the key', () => {
    const roles = [
      { scope: `${vault}/keys/other`, roleName: 'r', permissions: [cryptoUser] },
      { scope: `${vault}2`, roleName: 'r', permissions: [cryptoUser] },
    ];
    expect(grantedByRoles(roles, keyScope)).toEqual([]);
  });

  it('matches case-insensitively (ARM returns other casing)', () => {
    expect(
      actionMatches(
        'microsoft.keyvault/vaults/keys/*',
        'Microsoft.KeyVault/vaults/keys/sign/action',
      ),
    ).toBe(true);
    expect(
      actionMatches('Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/readX'),
    ).toBe(false);
    expect(
      grantedByRoles(
        [{ scope: vault.toLowerCase(), roleName: 'r', permissions: [cryptoUser] }],
        keyScope,
      ),
    ).toHaveLength(4);
  });
});

describe('grantedByPolicies', () => {
  const principal = '11111111-2222-3333-4444-555555555555';
  it('reads the key permissions of the principal own policy only', () => {
    const policies = [
      { tenantId: 't', objectId: principal, permissions: { keys: ['Get', 'List', 'Sign'] } },
      { tenantId: 't', objectId: 'someone-else', permissions: { keys: ['all'] } },
      {
        tenantId: 't',
        objectId: principal,
        applicationId: 'app',
        permissions: { keys: ['decrypt'] },
      },
    ];
    expect(grantedByPolicies(policies, principal, 't')).toEqual(['list', 'get', 'sign']);
    expect(
      grantedByPolicies([{ objectId: principal, permissions: { keys: ['all'] } }], principal, 't'),
    ).toHaveLength(4);
  });
});

describe('missingAccessMessage', () => {
  it('says what to grant, for each vault model', () => {
    const common = {
      missing: ['sign'] as const,
      keyName: 'k',
      vaultResourceId: vault,
      principalId: 'p',
    };
    expect(missingAccessMessage({ ...common, rbac: true, missing: ['sign'] })).toMatch(
      /lacks sign on key k .* data actions Microsoft\.KeyVault\/vaults\/keys\/sign\/action/,
    );
    expect(missingAccessMessage({ ...common, rbac: false, missing: ['decrypt'] })).toMatch(
      /lacks decrypt .*access policy for object ID p with key permissions list, get, decrypt and sign/,
    );
  });
});

describe('settledByListing', () => {
  it("leaves to the service's listKeyVaultKeys only what a listing proves", () => {
    // RBAC: list and get are one data action (keys/read); access policies name them apart.
    expect(KEY_OPERATIONS.filter((op) => settledByListing(op, true))).toEqual(['list', 'get']);
    expect(KEY_OPERATIONS.filter((op) => settledByListing(op, false))).toEqual(['list']);
  });
});
