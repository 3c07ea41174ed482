// The azure store with a Key Vault certificate source: the operator process reads the
// certificate from the emulator, verifies its own key for real, checks the Logic Apps
// prerequisites on the ARM test server and PUTs it; a renewal (a new version imported, as a
// CA renewal is: the shared vault's clock is not moved) reaches Azure as one PUT with the new
// publicCertificate and keyVersion.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManagedIdentityCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import type { KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer, LOGIC_APPS_APP_ID } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { privateUsable } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { waitForEvent } from '../support/events.ts';
import { keyPair } from '../support/keys.ts';
import { NO_EMULATOR } from '../support/vault.ts';
import {
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

const { vaultUrl } = testenv();
const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CRYPTO_USER = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424`;
const WAIT_MS = 90_000;

const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
const keyVersionOf = (kid: string | undefined) => kid?.split('/').pop();

describe.skipIf(!vaultUrl)(
  `azure store: a Key Vault certificate source and its renewal${vaultUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    let admin: KubeClient;
    let arm: ArmTestServer;
    let ns: string;
    let op: OperatorProcess | undefined;
    let certificates: CertificateClient;

    const importPem = async (name: string, slot: number) => {
      const pem = privateUsable({}, slot).pem;
      const key = keyPair('rsa2048', slot).privateKey.export({ type: 'pkcs8', format: 'pem' });
      // Lowkey Vault base64-decodes `value` whatever the content type (Azure takes PEM text).
      const value = Buffer.from(`${String(key)}${pem}`).toString('base64');
      const imported = await certificates.importCertificate(name, Buffer.from(value), {
        policy: { contentType: 'application/x-pem-file', issuerName: 'Self', subject: 'CN=x' },
      });
      return Object.assign(imported, { pem });
    };

    beforeAll(async () => {
      admin = adminClient();
      arm = await new ArmTestServer().start();
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
      certificates = new CertificateClient(vaultUrl!, new ManagedIdentityCredential(), {
        disableChallengeResourceVerification: true,
      });
      ns = await createNamespace(admin, 'azkvcert');
      op = startOperatorProcess(ns, arm, {
        useVaultEmulatorTokens: true,
        env: { B2B_KEYVAULT_POLL_INTERVAL: '2s' },
      });
    });
    afterEach(() => expect(arm.invalidBodies).toEqual([]));
    afterAll(async () => {
      const code = await op?.stop();
      await arm?.stop();
      expect(code).toBe(0);
    });

    it('syncs the certificate with its own key version, then a renewal as one PUT with the new certificate and key version', async () => {
      const name = `kvcert-${Date.now()}`;
      const v1 = await importPem(name, 93);
      const accountId = arm.addAccount(SUB, RG, 'ia-kv', 'Standard');
      const vaultId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-certs`;
      arm.addVault({
        id: vaultId,
        tenantId: TENANT,
        vaultUri: vaultUrl!,
        enableRbacAuthorization: true,
        accessPolicies: [],
        listedKeys: [name],
      });
      arm.roleAssignments.push({
        id: `${vaultId}/providers/Microsoft.Authorization/roleAssignments/kv`,
        scope: vaultId,
        roleDefinitionId: CRYPTO_USER,
        principalId: arm.servicePrincipals.get(LOGIC_APPS_APP_ID)!,
      });
      await createAccount(admin, ns, 'ia-kv', {
        store: {
          azure: {
            subscriptionId: SUB,
            resourceGroup: RG,
            name: 'ia-kv',
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
      await createCertificate(admin, ns, 'signing', {
        integrationAccount: { name: 'ia-kv' },
        type: 'Private',
        certificate: { keyVault: { vault: 'main', name, version: '' } },
      });
      await waitForCondition(admin, ns, 'signing', 'Ready', 'True', 'Ready', WAIT_MS);
      type Stored = {
        properties: {
          publicCertificate: string;
          key: { keyVault: { id: string }; keyName: string; keyVersion: string };
        };
      };
      const first = arm.certificate(accountId, 'signing') as Stored;
      expect(first.properties.key).toMatchObject({
        keyName: name,
        keyVersion: keyVersionOf(v1.keyId),
      });
      expect(first.properties.key.keyVault.id.toLowerCase()).toBe(vaultId.toLowerCase());
      expect(first.properties.publicCertificate).toBe(der(v1.pem));
      const putsOf = () =>
        arm.writes().filter((w) => w.method === 'PUT' && w.path.endsWith('/certificates/signing'))
          .length;
      const putsBefore = putsOf();

      const v2 = await importPem(name, 94); // the CA's renewal: a new version with a new key
      await eventually(
        async () => {
          const c = await getCertificate(admin, ns, 'signing');
          return c?.status?.keyVaultCertificate?.version === v2.properties.version ? c : undefined;
        },
        'the renewal synced',
        WAIT_MS,
      );
      const renewed = arm.certificate(accountId, 'signing') as Stored;
      expect(renewed.properties.key.keyVersion).toBe(keyVersionOf(v2.keyId));
      expect(renewed.properties.publicCertificate).toBe(der(v2.pem));
      expect(putsOf() - putsBefore).toBe(1);
      const event = await waitForEvent(admin, ns, {
        kind: 'Certificate',
        name: 'signing',
        reason: 'Renewed',
      });
      expect(event.message).toContain(`replaced version ${v1.properties.version!}`);
    });
  },
);
