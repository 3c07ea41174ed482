// Private certificates whose key is in Azure Key Vault, against the Lowkey Vault emulator and
// driven as users do: objects applied with kubectl, the operator as its own process under the
// non-admin kubeconfig, an account whose vault authenticates with managed identity (the
// emulator's token endpoint), --allowed-vault-hosts naming the emulator's host. The vault is
// reached through a TCP proxy so it can be taken down without stopping the shared emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { listEvents, waitForEvent } from '../support/events.ts';
import { keyPair } from '../support/keys.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import { condition, getCertificate, waitForCondition, kubectlApply } from '../support/resources.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { addVaultAlias, importKey, NO_EMULATOR, vaultAdmin } from '../support/vault.ts';

const { vaultUrl, vaultCaFile } = testenv();
const RECHECK_S = 4;
const WAIT_MS = 60_000;

const apply = kubectlApply;

const certificate = (name: string, pem: string, key: { name: string; version?: string }) => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name },
  spec: {
    integrationAccount: { name: 'contoso' },
    type: 'Private',
    certificate: { inline: pem },
    key: { vault: 'main', ...key },
  },
});

describe.skipIf(!vaultUrl)(
  `Private certificates with Azure Key Vault (emulator)${vaultUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    let admin: KubeClient;
    let ns: string;
    let proxy: TcpProxy;
    let proxiedVault: string;
    let operator: OperatorProcess;
    const keys = () => vaultAdmin(proxiedVault);
    const storedKeyJson = async (name: string) => {
      const s = await admin.get<{ data: Record<string, string> }>(
        resourcePath(SecretType, { namespace: ns, name: `${name}-b2bcert` }),
      );
      return JSON.parse(Buffer.from(s.data['key.json']!, 'base64').toString()) as {
        version: string;
      };
    };

    beforeAll(async () => {
      admin = adminClient();
      ns = await createNamespace(admin, 'azure-private');
      proxy = new TcpProxy('127.0.0.1', Number(new URL(vaultUrl!).port));
      proxiedVault = `https://localhost:${await proxy.start()}`;
      await addVaultAlias(proxiedVault);
      await apply(ns, {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'IntegrationAccount',
        metadata: { name: 'contoso' },
        spec: {
          keyVaults: [
            { name: 'main', azure: { vaultUrl: proxiedVault, auth: { managedIdentity: {} } } },
          ],
        },
      });
      operator = await startOperatorProcess(ns, {
        B2B_ALLOWED_VAULT_HOSTS: 'localhost', // any port: the tests' proxies
        B2B_RECHECK_INTERVAL: `${RECHECK_S}s`,
        NODE_EXTRA_CA_CERTS: vaultCaFile!,
      });
    });
    afterAll(async () => {
      await operator?.stop();
      await proxy?.stop();
    });

    it('is Ready with list, get, decrypt and sign verified, and the store names the key version', async () => {
      const key = await importKey(keys(), `ready-${ns}`, keyPair('rsa2048', 41).privateKey);
      await apply(ns, certificate('ready', privateUsable({}, 41).pem, { name: key.name }));
      const c = await waitForCondition(admin, ns, 'ready', 'Ready', 'True', undefined, WAIT_MS);
      expect(condition(c, 'KeyVaultAccessGranted')).toMatchObject({
        status: 'True',
        reason: 'AccessGranted',
      });
      expect(c.status?.key).toMatchObject({
        vaultUrl: proxiedVault,
        name: key.name,
        version: key.properties.version,
        grants: ['list', 'get', 'decrypt', 'sign'],
      });
      expect(await storedKeyJson('ready')).toMatchObject({ version: key.properties.version });
      expect(await operator.keyVaultRequests('sign')).toBeGreaterThan(0);
      expect(await operator.keyVaultRequests('decrypt')).toBeGreaterThan(0);
    });

    it('reports KeyNotFound for a missing key and KeyMismatch for a different RSA key', async () => {
      const other = await importKey(keys(), `other-${ns}`, keyPair('rsa2048', 43).privateKey);
      await apply(ns, certificate('missing', privateUsable({}, 42).pem, { name: `nowhere-${ns}` }));
      await apply(ns, certificate('mismatch', privateUsable({}, 42).pem, { name: other.name }));
      const missing = await waitForCondition(
        admin,
        ns,
        'missing',
        'Ready',
        'False',
        'KeyNotFound',
        WAIT_MS,
      );
      expect(condition(missing, 'KeyVaultAccessGranted')?.message).toMatch(
        /not found in https:\/\/localhost:/,
      );
      expect(condition(missing, 'Stalled')?.status).toBe('True');
      const mismatch = await waitForCondition(
        admin,
        ns,
        'mismatch',
        'Ready',
        'False',
        'KeyMismatch',
        WAIT_MS,
      );
      expect(condition(mismatch, 'KeyVaultAccessGranted')?.message).toMatch(
        /is not the certificate's key/,
      );
    });

    it('follows a pinned key.version or the latest one; a rotation is seen within the recheck interval and the store keeps the last good entry', async () => {
      const name = `rotating-${ns}`;
      const v1 = await importKey(keys(), name, keyPair('rsa2048', 44).privateKey);
      const pem1 = privateUsable({}, 44).pem;
      await apply(ns, certificate('latest', pem1, { name }));
      await apply(ns, certificate('pinned', pem1, { name, version: v1.properties.version! }));
      await waitForCondition(admin, ns, 'latest', 'Ready', 'True', undefined, WAIT_MS);
      await waitForCondition(admin, ns, 'pinned', 'Ready', 'True', undefined, WAIT_MS);

      const v2 = await importKey(keys(), name, keyPair('rsa2048', 45).privateKey); // a new version
      const rotatedAt = Date.now();
      const latest = await waitForCondition(
        admin,
        ns,
        'latest',
        'Ready',
        'False',
        'KeyMismatch',
        WAIT_MS,
      );
      // Seen by the recheck alone (nothing touched the Certificate), within about one interval.
      expect(Date.now() - rotatedAt).toBeLessThan((2 * RECHECK_S + 10) * 1000);
      expect(condition(latest, 'KeyVaultAccessGranted')?.message).toContain(v2.properties.version!);
      expect(await storedKeyJson('latest')).toMatchObject({ version: v1.properties.version });
      const pinned = await getCertificate(admin, ns, 'pinned');
      expect(condition(pinned, 'Ready')?.status).toBe('True');
      expect(pinned?.status?.key?.version).toBe(v1.properties.version);

      await apply(ns, certificate('latest', privateUsable({}, 45).pem, { name })); // the certificate follows
      const again = await waitForCondition(
        admin,
        ns,
        'latest',
        'Ready',
        'True',
        undefined,
        WAIT_MS,
      );
      expect(again.status?.key?.version).toBe(v2.properties.version);
      expect(await storedKeyJson('latest')).toMatchObject({ version: v2.properties.version });
    });

    it('reports KeyDisabled for a disabled key and KeyExpired for one past its expiry, and recovers when the key is enabled', async () => {
      const disabled = await importKey(keys(), `disabled-${ns}`, keyPair('rsa2048', 46).privateKey);
      await apply(ns, certificate('disabled', privateUsable({}, 46).pem, { name: disabled.name }));
      await waitForCondition(admin, ns, 'disabled', 'Ready', 'True', undefined, WAIT_MS);
      await keys().updateKeyProperties(disabled.name, disabled.properties.version!, {
        enabled: false,
      });
      const d = await waitForCondition(
        admin,
        ns,
        'disabled',
        'Ready',
        'False',
        'KeyDisabled',
        WAIT_MS,
      );
      expect(condition(d, 'KeyVaultAccessGranted')?.message).toMatch(/is disabled/);
      expect(await storedKeyJson('disabled')).toMatchObject({
        version: disabled.properties.version,
      });
      await keys().updateKeyProperties(disabled.name, disabled.properties.version!, {
        enabled: true,
      });
      await waitForCondition(admin, ns, 'disabled', 'Ready', 'True', undefined, WAIT_MS);

      const expired = await importKey(keys(), `expired-${ns}`, keyPair('rsa2048', 47).privateKey, {
        expiresOn: new Date(Date.now() - 3_600_000),
      });
      await apply(ns, certificate('expired', privateUsable({}, 47).pem, { name: expired.name }));
      const e = await waitForCondition(
        admin,
        ns,
        'expired',
        'Ready',
        'False',
        'KeyExpired',
        WAIT_MS,
      );
      expect(condition(e, 'KeyVaultAccessGranted')?.message).toMatch(/expired at/);
    });

    it('reports KeyOperationNotPermitted, terminal, for a key whose key_ops are only sign and verify (az keyvault key create --ops sign verify)', async () => {
      const key = await importKey(keys(), `signonly-${ns}`, keyPair('rsa2048', 49).privateKey, {
        keyOps: ['sign', 'verify'],
      });
      expect(key.keyOperations).toEqual(['sign', 'verify']); // the emulator keeps them
      await apply(ns, certificate('sign-only', privateUsable({}, 49).pem, { name: key.name }));
      const c = await waitForCondition(
        admin,
        ns,
        'sign-only',
        'Ready',
        'False',
        'KeyOperationNotPermitted',
        WAIT_MS,
      );
      expect(condition(c, 'KeyVaultAccessGranted')).toMatchObject({
        status: 'False',
        reason: 'KeyOperationNotPermitted',
      });
      expect(condition(c, 'KeyVaultAccessGranted')?.message).toMatch(
        /permits sign, verify but not decrypt/,
      );
      expect(condition(c, 'Stalled')?.status).toBe('True');
      expect(condition(c, 'Reconciling')?.status).not.toBe('True');
    });

    it('rechecks a KeyNotFound at the recheck interval: the key created later makes it Ready with nobody touching the Certificate', async () => {
      const name = `late-${ns}`;
      await apply(ns, certificate('late', privateUsable({}, 48).pem, { name }));
      await waitForCondition(admin, ns, 'late', 'Ready', 'False', 'KeyNotFound', WAIT_MS);
      await importKey(keys(), name, keyPair('rsa2048', 48).privateKey);
      await waitForCondition(admin, ns, 'late', 'Ready', 'True', undefined, WAIT_MS);
    });

    it('is VaultUnavailable while the vault is down, keeps the last good store entry, and recovers without a restart', async () => {
      const key = await importKey(keys(), `outage-${ns}`, keyPair('rsa2048', 50).privateKey);
      await apply(ns, certificate('outage', privateUsable({}, 50).pem, { name: key.name }));
      await waitForCondition(admin, ns, 'outage', 'Ready', 'True', undefined, WAIT_MS);
      proxy.outage();
      try {
        const down = await waitForCondition(
          admin,
          ns,
          'outage',
          'Ready',
          'False',
          'VaultUnavailable',
          WAIT_MS,
        );
        expect(condition(down, 'Reconciling')?.status).toBe('True');
        expect(condition(down, 'Stalled')?.status).not.toBe('True');
        expect(await storedKeyJson('outage')).toMatchObject({ version: key.properties.version });
      } finally {
        proxy.restore();
      }
      await waitForCondition(admin, ns, 'outage', 'Ready', 'True', undefined, WAIT_MS);
      expect(operator.child.exitCode).toBeNull();
    });

    it('keeps tokens and keys out of logs, events and status', async () => {
      const token = await eventually(
        async () =>
          (
            await fetch(
              `${process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST}/metadata/identity/oauth2/token?resource=https://vault.azure.net`,
            ).then((r) => r.json() as Promise<{ access_token?: string }>)
          ).access_token,
        'a token from the emulator',
      );
      const header = token.split('.')[0]!; // the emulator's JWT header is the same for every token
      // The outage's warning (above) is the event most likely to carry a vault error's details;
      // it is sent in the background, so wait for it before looking.
      await waitForEvent(admin, ns, {
        kind: 'Certificate',
        name: 'outage',
        reason: 'VaultUnavailable',
      });
      const events = await listEvents(admin, ns);
      const certs = await admin.list<{ items: unknown[] }>(
        `/apis/integration.b2b.dev/v1alpha1/namespaces/${ns}/certificates`,
      );
      for (const [what, text] of [
        ['logs', operator.output()],
        ['events', JSON.stringify(events)],
        ['status', JSON.stringify(certs.items)],
      ] as const) {
        expect(text.includes(`${header}.`), `a bearer token in ${what}`).toBe(false);
        expect(/Bearer [A-Za-z0-9-_]{20,}/.test(text), `an Authorization header in ${what}`).toBe(
          false,
        );
      }
    });
  },
);
