// --azure-identity-policy as data: which auth an object outside the operator's namespace may use.
import { describe, expect, it } from 'vitest';
import { checkIdentityAllowed, type IdentityPolicy } from '../../../src/identity/policy.ts';
import { vaultConnection } from '../../../src/vaults/connection.ts';
import { parseConfig, ConfigError } from '../../../src/operator/config.ts';

const lockdown: IdentityPolicy = { mode: 'serviceAccount', operatorNamespace: 'b2b-system' };
const open: IdentityPolicy = { mode: 'operator', operatorNamespace: 'b2b-system' };
const sp = {
  servicePrincipal: { tenantId: 't', clientId: 'c', clientSecretRef: { name: 's', key: 'k' } },
};

describe('checkIdentityAllowed', () => {
  it.each([
    ['managedIdentity', { managedIdentity: {} }],
    ['a user-assigned managedIdentity', { managedIdentity: { clientId: 'x' } }],
    ['workloadIdentity without serviceAccountName', { workloadIdentity: {} }],
    ['workloadIdentity with only IDs', { workloadIdentity: { clientId: 'x', tenantId: 'y' } }],
    // No method at all (a status.store.azure.auth someone emptied): never the operator's default.
    ['an auth naming no method', {}],
  ])('refuses %s outside the operator’s namespace under serviceAccount', (_, auth) => {
    const verdict = checkIdentityAllowed(auth, 'team-a', lockdown);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.reason).toBe('IdentityNotAllowed');
      expect(verdict.message).toMatch(/no token was requested/);
      expect(verdict.message).toMatch(/serviceAccountName/);
      expect(verdict.message).toMatch(/namespace team-a/);
    }
  });

  it('makes no credential for an auth that names no method (no managed identity by default)', async () => {
    const { createCredential } = await import('../../../src/vaults/azure/credentials.ts');
    expect(() => createCredential({}, 'https://kv.vault.azure.net')).toThrow(/no sign-in method/);
  });

  it.each([
    ['a ServiceAccount of the namespace', { workloadIdentity: { serviceAccountName: 'b2b' } }],
    ['a service principal', sp],
  ])('allows %s under serviceAccount', (_, auth) => {
    expect(checkIdentityAllowed(auth, 'team-a', lockdown)).toEqual({ ok: true });
  });

  it('allows the operator’s own identity in its own namespace, and everywhere under operator', () => {
    expect(checkIdentityAllowed({ managedIdentity: {} }, 'b2b-system', lockdown)).toEqual({
      ok: true,
    });
    expect(checkIdentityAllowed({ managedIdentity: {} }, 'team-a', open)).toEqual({ ok: true });
    expect(checkIdentityAllowed({ workloadIdentity: {} }, 'team-a', undefined)).toEqual({
      ok: true,
    });
  });

  it('is checked for a vault after its host, before any connection is made', () => {
    const vault = (auth: object) => ({
      name: 'main',
      azure: { vaultUrl: 'https://kv.vault.azure.net', auth },
    });
    expect(vaultConnection(vault({ managedIdentity: {} }), 'team-a', [], lockdown)).toMatchObject({
      ok: false,
      reason: 'IdentityNotAllowed',
    });
    expect(
      vaultConnection(
        { name: 'x', azure: { vaultUrl: 'https://evil.example', auth: { managedIdentity: {} } } },
        'team-a',
        [],
        lockdown,
      ),
    ).toMatchObject({ ok: false, reason: 'VaultHostNotAllowed' });
    expect(
      vaultConnection(
        vault({ workloadIdentity: { serviceAccountName: 'b2b' } }),
        'team-a',
        [],
        lockdown,
      ),
    ).toMatchObject({ ok: true });
  });
});

describe('--azure-identity-policy', () => {
  it('defaults to operator; reads the flag and B2B_AZURE_IDENTITY_POLICY', () => {
    expect(parseConfig([], {}).azureIdentityPolicy).toBe('operator');
    expect(parseConfig(['--azure-identity-policy=serviceAccount'], {}).azureIdentityPolicy).toBe(
      'serviceAccount',
    );
    expect(
      parseConfig([], { B2B_AZURE_IDENTITY_POLICY: 'serviceAccount' }).azureIdentityPolicy,
    ).toBe('serviceAccount');
  });

  it('refuses anything else', () => {
    expect(() => parseConfig(['--azure-identity-policy=teams'], {})).toThrow(ConfigError);
  });

  it('knows the operator’s namespace: POD_NAMESPACE, its service account’s, else the Lease’s', () => {
    expect(parseConfig([], { POD_NAMESPACE: 'ops' }, 'sa-ns').operatorNamespace).toBe('ops');
    expect(parseConfig([], {}, 'sa-ns').operatorNamespace).toBe('sa-ns');
    expect(parseConfig(['--leader-election-namespace=lease-ns'], {}).operatorNamespace).toBe(
      'lease-ns',
    );
  });
});
