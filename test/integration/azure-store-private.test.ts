// Private certificates in the azure store: the operator process verifies the key for real in
// the Key Vault emulator (Lowkey Vault), then checks the Azure Logic Apps service principal's
// access through the ARM test server (role assignments and definitions of an RBAC vault, the
// access policies of the other kind, the service's own listKeyVaultKeys) before the PUT.
// Skipped (and said so) where the emulator is not available: see README, "Test environment".
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer, LOGIC_APPS_APP_ID } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { privateUsable } from '../support/certs.ts';
import { adminClient, createNamespace, testenv } from '../support/cluster.ts';
import { keyPair } from '../support/keys.ts';
import { importKey, NO_EMULATOR, vaultAdmin } from '../support/vault.ts';
import {
  condition,
  createAccount,
  createCertificate,
  waitForCondition,
} from '../support/resources.ts';

const { vaultUrl } = testenv();
const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CRYPTO_USER = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424`;
const CRYPTO_ONLY = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/0b7c1a2d-0000-4000-8000-000000000002`;
const NO_SIGN = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/0b7c1a2d-0000-4000-8000-000000000001`;

async function importTestKey(name: string, slot: number): Promise<string> {
  const key = await importKey(vaultAdmin(), name, keyPair('rsa2048', slot).privateKey);
  return key.properties.version!;
}

describe.skipIf(!vaultUrl)(
  `azure store: Private certificates and the Logic Apps prerequisites${vaultUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    let admin: KubeClient;
    let arm: ArmTestServer;
    let ns: string;
    let op: OperatorProcess | undefined;
    let logicApps: string;
    let case_ = 0;

    /** One Azure account, one vault resource (the emulator's URL), one key: a case of its own. */
    async function setUp(options: {
      rbac: boolean;
      role?: string;
      /** Where the role is assigned: the vault (default) or a management group above the subscription. */
      roleScope?: string;
      keys?: string[];
      accessPolicyKeys?: string[];
    }) {
      const n = ++case_;
      const keyName = `la-key-${n}-${Date.now()}`;
      const version = await importTestKey(keyName, 40 + n);
      const accountName = `ia-${n}`;
      const accountId = arm.addAccount(SUB, RG, accountName, 'Standard');
      const vaultId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-${n}`;
      arm.addVault({
        id: vaultId,
        tenantId: TENANT,
        vaultUri: vaultUrl!,
        enableRbacAuthorization: options.rbac,
        accessPolicies: options.accessPolicyKeys
          ? [
              {
                tenantId: TENANT,
                objectId: logicApps,
                permissions: { keys: options.accessPolicyKeys },
              },
            ]
          : [],
        listedKeys: options.keys ?? ['other-a', 'other-b', keyName],
      });
      if (options.role)
        arm.roleAssignments.push({
          id: `${options.roleScope ?? vaultId}/providers/Microsoft.Authorization/roleAssignments/${n}`,
          scope: options.roleScope ?? vaultId,
          roleDefinitionId: options.role,
          principalId: logicApps,
        });
      await createAccount(admin, ns, accountName, {
        store: {
          azure: {
            subscriptionId: SUB,
            resourceGroup: RG,
            name: accountName,
            auth: { managedIdentity: {} },
          },
        },
        keyVaults: [
          {
            name: 'main',
            azure: { vaultUrl: vaultUrl!, resourceId: vaultId, auth: { managedIdentity: {} } },
          },
        ],
      });
      await createCertificate(admin, ns, `cert-${n}`, {
        integrationAccount: { name: accountName },
        type: 'Private',
        certificate: { inline: privateUsable({}, 40 + n).pem },
        key: { vault: 'main', name: keyName },
      });
      return { name: `cert-${n}`, keyName, version, accountId, vaultId };
    }

    const refusedWith = (name: string, reason: string) =>
      waitForCondition(admin, ns, name, 'Ready', 'False', reason, 90_000);

    beforeAll(async () => {
      admin = adminClient();
      arm = await new ArmTestServer().start();
      logicApps = arm.servicePrincipals.get(LOGIC_APPS_APP_ID)!;
      arm.roleDefinitions.set(CRYPTO_USER.toLowerCase(), {
        id: CRYPTO_USER,
        roleName: 'Key Vault Crypto User',
        permissions: [
          {
            actions: [],
            notActions: [],
            dataActions: [
              'Microsoft.KeyVault/vaults/keys/*',
              'Microsoft.KeyVault/vaults/keys/sign/action',
            ],
            notDataActions: [],
          },
        ],
      });
      arm.roleDefinitions.set(NO_SIGN.toLowerCase(), {
        id: NO_SIGN,
        roleName: 'Keys without sign',
        permissions: [
          {
            actions: [],
            notActions: [],
            dataActions: ['Microsoft.KeyVault/vaults/keys/*'],
            notDataActions: ['Microsoft.KeyVault/vaults/keys/sign/action'],
          },
        ],
      });
      arm.roleDefinitions.set(CRYPTO_ONLY.toLowerCase(), {
        id: CRYPTO_ONLY,
        roleName: 'Decrypt and sign only',
        permissions: [
          {
            actions: [],
            notActions: [],
            dataActions: [
              'Microsoft.KeyVault/vaults/keys/decrypt/action',
              'Microsoft.KeyVault/vaults/keys/sign/action',
            ],
            notDataActions: [],
          },
        ],
      });
      ns = await createNamespace(admin, 'azpriv');
      op = startOperatorProcess(ns, arm, { useVaultEmulatorTokens: true });
    });
    afterEach(() => expect(arm.invalidBodies).toEqual([]));
    afterAll(async () => {
      const code = await op?.stop();
      const output = op?.output() ?? '';
      await arm?.stop();
      expect(code).toBe(0);
      for (const token of arm.seenTokens) expect(output).not.toContain(token);
    });

    it('syncs a Private certificate with the verified key version, the key listed on page 3', async () => {
      const c = await setUp({ rbac: true, role: CRYPTO_USER });
      const cert = await waitForCondition(admin, ns, c.name, 'Ready', 'True', 'Ready', 90_000);
      expect(cert.status?.key?.version).toBe(c.version);
      const stored = arm.certificate(c.accountId, c.name) as {
        properties: { key: { keyVault: { id: string }; keyName: string; keyVersion: string } };
      };
      expect(stored.properties.key).toMatchObject({ keyName: c.keyName, keyVersion: c.version });
      expect(stored.properties.key.keyVault.id.toLowerCase()).toBe(c.vaultId.toLowerCase());
      // The pager trap: the key is on the third page of listKeyVaultKeys.
      expect(
        arm.calls.filter((call) => call.path.endsWith('/ia-1/listKeyVaultKeys')).length,
      ).toBeGreaterThanOrEqual(3);
    });

    it('counts a role inherited from a management group above the subscription, as ARM lists it at the key scope', async () => {
      const group = '/providers/Microsoft.Management/managementGroups/b2b-landing-zone';
      arm.managementGroups.set(SUB, ['b2b-landing-zone', TENANT]);
      try {
        const c = await setUp({ rbac: true, role: CRYPTO_USER, roleScope: group });
        const cert = await waitForCondition(admin, ns, c.name, 'Ready', 'True', 'Ready', 90_000);
        expect(cert.status?.key?.version).toBe(c.version);
        expect(arm.certificate(c.accountId, c.name)).toBeDefined();
      } finally {
        // It would grant every later case's key, all in this subscription.
        arm.roleAssignments = arm.roleAssignments.filter((a) => a.scope !== group);
        arm.managementGroups.delete(SUB);
      }
    });

    it("lets the service's own listing settle list and get when the role evaluation finds them missing", async () => {
      // The roles the operator can read grant decrypt and sign only, yet listKeyVaultKeys lists
      // the key: the service can read it through a grant the evaluation does not see. The real
      // call has the last word; decrypt and sign still come from the roles.
      const c = await setUp({ rbac: true, role: CRYPTO_ONLY });
      await waitForCondition(admin, ns, c.name, 'Ready', 'True', 'Ready', 90_000);
      expect(arm.certificate(c.accountId, c.name)).toBeDefined();
    });

    it('reports the Logic Apps principal missing sign on an RBAC vault', async () => {
      const c = await setUp({ rbac: true, role: NO_SIGN });
      const cert = await refusedWith(c.name, 'LogicAppsKeyAccessMissing');
      expect(condition(cert, 'Ready')?.message).toMatch(
        /lacks sign on key .*data actions Microsoft\.KeyVault\/vaults\/keys\/sign\/action/,
      );
      expect(condition(cert, 'Stalled')?.status).toBe('True');
      expect(arm.certificate(c.accountId, c.name)).toBeUndefined();
    });

    it('reports the Logic Apps principal missing decrypt in an access-policy vault', async () => {
      const c = await setUp({ rbac: false, accessPolicyKeys: ['Get', 'List', 'Sign'] });
      const cert = await refusedWith(c.name, 'LogicAppsKeyAccessMissing');
      expect(condition(cert, 'Ready')?.message).toMatch(
        /lacks decrypt on key .*add an access policy for object ID/,
      );
    });

    it('says exactly which permission the operator lacks to read role assignments', async () => {
      arm.denied.add('Microsoft.Authorization/roleAssignments/read');
      try {
        const c = await setUp({ rbac: true, role: CRYPTO_USER });
        const cert = await refusedWith(c.name, 'LogicAppsAccessUnverifiable');
        expect(condition(cert, 'Ready')?.message).toMatch(
          /identity the account signs in with lacks Microsoft\.Authorization\/roleAssignments\/read on \/subscriptions\/.*\/keys\//,
        );
      } finally {
        arm.denied.delete('Microsoft.Authorization/roleAssignments/read');
      }
    });

    it('stops when listKeyVaultKeys is denied, and when the service does not list the key', async () => {
      arm.denied.add('Microsoft.Logic/integrationAccounts/listKeyVaultKeys/action');
      try {
        const c = await setUp({ rbac: true, role: CRYPTO_USER });
        const cert = await refusedWith(c.name, 'LogicAppsAccessUnverifiable');
        expect(condition(cert, 'Ready')?.message).toContain(
          'Microsoft.Logic/integrationAccounts/listKeyVaultKeys/action',
        );
      } finally {
        arm.denied.delete('Microsoft.Logic/integrationAccounts/listKeyVaultKeys/action');
      }
      const unlisted = await setUp({ rbac: true, role: CRYPTO_USER, keys: ['someone-elses'] });
      const cert = await refusedWith(unlisted.name, 'KeyNotListedByIntegrationAccount');
      expect(condition(cert, 'Ready')?.message).toMatch(/does not list key .*listKeyVaultKeys/);
    });
  },
);
