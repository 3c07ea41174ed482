// Azure Key Vault's answers that the emulator cannot give (403 per operation with each inner
// code, 401, 429, 500/503, a response slower than the deadline, a reset), injected by an HTTPS
// proxy in front of the real emulator, TLS verified on both legs. The operator runs as its own
// process trusting the proxy's test CA. Also: the request metric counts what really goes on
// the wire, and a key id on another host never receives a connection.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { keyPair } from '../support/keys.ts';
import { caBundle, startOperatorProcess } from '../support/operator-process.ts';
import { condition, waitForCondition, kubectlApply } from '../support/resources.ts';
import { importKey, NO_EMULATOR, vaultAdmin } from '../support/vault.ts';
import { KeyVaultErrors, VaultFaultProxy, type Fault } from '../support/vault-proxy.ts';

const { vaultUrl, vaultCaFile } = testenv();
const WAIT_MS = 90_000;

const apply = kubectlApply;

/** An account whose one vault is the proxy, and a way to add Private certificates to it. */
async function environment(prefix: string, recheck: string) {
  const admin = adminClient();
  const ns = await createNamespace(admin, prefix);
  const proxy = new VaultFaultProxy(vaultUrl!, vaultCaFile!);
  const url = await proxy.start();
  await apply(ns, {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: { name: 'contoso' },
    spec: {
      keyVaults: [{ name: 'main', azure: { vaultUrl: url, auth: { managedIdentity: {} } } }],
    },
  });
  const operator = await startOperatorProcess(ns, {
    B2B_ALLOWED_VAULT_HOSTS: 'localhost',
    B2B_RECHECK_INTERVAL: recheck,
    NODE_EXTRA_CA_CERTS: caBundle([vaultCaFile!, proxy.caFile]),
  });
  /** A key in the vault and a Private certificate for it, named alike. */
  const privateCertificate = async (name: string, slot: number) => {
    await importKey(vaultAdmin(), `${name}-${ns}`, keyPair('rsa2048', slot).privateKey);
    await apply(ns, {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: { name },
      spec: {
        integrationAccount: { name: 'contoso' },
        type: 'Private',
        certificate: { inline: privateUsable({}, slot).pem },
        key: { vault: 'main', name: `${name}-${ns}` },
      },
    });
  };
  const stored = (name: string) =>
    admin
      .get<{ data: Record<string, string> }>(
        resourcePath(SecretType, { namespace: ns, name: `${name}-b2bcert` }),
      )
      .then((s) => JSON.parse(Buffer.from(s.data['key.json']!, 'base64').toString()) as object);
  return { admin, ns, proxy, url, operator, privateCertificate, stored };
}

/** The key name a request is about: /keys/<name>/... */
const keyOf = (path: string) => /^\/keys\/([^/?]+)/.exec(path)?.[1] ?? '';

describe.skipIf(!vaultUrl)(
  `Key Vault's error answers through a fault-injecting proxy${vaultUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    let env: Awaited<ReturnType<typeof environment>>;
    let admin: KubeClient;
    const faults = new Map<string, (operation: string) => Fault | undefined>();

    beforeAll(async () => {
      env = await environment('azure-faults', '3s');
      admin = env.admin;
      env.proxy.fault = ({ path, operation }) =>
        faults.get(keyOf(path).replace(`-${env.ns}`, ''))?.(operation);
    });
    afterAll(async () => {
      await env?.operator.stop();
      await env?.proxy.stop();
    });

    it('gives each answer its reason, and never removes a store entry because a vault failed', async () => {
      const only =
        (op: string, fault: Fault) =>
        (operation: string): Fault | undefined =>
          operation === op ? fault : undefined;
      const always = (fault: Fault) => () => fault;
      const cases: [string, (operation: string) => Fault | undefined, string, RegExp][] = [
        [
          'rbac-sign',
          only('sign', KeyVaultErrors.forbidden('ForbiddenByRbac', 'sign')),
          'AccessDenied',
          /denied: sign \(ForbiddenByRbac\).*Key Vault Crypto User.*access-policy entry/,
        ],
        [
          'policy-get',
          only('get', KeyVaultErrors.forbidden('AccessDenied', 'get')),
          'AccessDenied',
          /denied: get \(AccessDenied\).*Key Vault Crypto User.*access-policy entry/,
        ],
        [
          'policy-decrypt',
          only('decrypt', KeyVaultErrors.forbidden('ForbiddenByPolicy', 'decrypt')),
          'AccessDenied',
          /denied: decrypt \(ForbiddenByPolicy\)/,
        ],
        [
          'rbac-list',
          only('list', KeyVaultErrors.forbidden('ForbiddenByRbac', 'list')),
          'AccessDenied',
          /denied: list \(ForbiddenByRbac\)/,
        ],
        [
          'firewall',
          always(KeyVaultErrors.forbidden('ForbiddenByFirewall', 'get')),
          'AccessDenied',
          /firewall refused the operator's address.*ForbiddenByFirewall/,
        ],
        [
          'bad-token',
          always(KeyVaultErrors.invalidToken()),
          'AuthenticationFailed',
          /401 Unauthorized: AKV10032/,
        ],
        [
          'error-500',
          only('sign', KeyVaultErrors.serverError()),
          'VaultUnavailable',
          /sign on key .* failed: 500 InternalServerError/,
        ],
        [
          'error-503',
          always(KeyVaultErrors.unavailable()),
          'VaultUnavailable',
          /503 ServiceUnavailable/,
        ],
        ['reset', only('decrypt', { reset: true }), 'VaultUnavailable', /decrypt on key .* failed/],
      ];
      let slot = 60;
      // Each certificate is Ready first, so the store holds an entry the failure must not remove.
      await Promise.all(cases.map(([name]) => env.privateCertificate(name, slot++)));
      for (const [name] of cases)
        await waitForCondition(admin, env.ns, name, 'Ready', 'True', undefined, WAIT_MS);
      const before = new Map<string, object>();
      for (const [name] of cases) before.set(name, await env.stored(name));
      for (const [name, fault] of cases) faults.set(name, fault);
      const table: string[] = [];
      try {
        await Promise.all(
          cases.map(async ([name, , reason, message]) => {
            const c = await waitForCondition(
              admin,
              env.ns,
              name,
              'Ready',
              'False',
              reason,
              WAIT_MS,
            );
            const access = condition(c, 'KeyVaultAccessGranted');
            table.push(`${name}: ${access?.reason}: ${access?.message}`);
            expect(access?.message, name).toMatch(message);
            const terminal = reason === 'AccessDenied';
            expect(condition(c, terminal ? 'Stalled' : 'Reconciling')?.status, name).toBe('True');
            expect(await env.stored(name), `${name}: store entry kept`).toEqual(before.get(name));
          }),
        );
      } finally {
        console.log(`fault -> reason\n${table.sort().join('\n')}`);
        for (const [name] of cases) faults.delete(name);
      }
      for (const [name] of cases)
        await waitForCondition(admin, env.ns, name, 'Ready', 'True', undefined, WAIT_MS);
    });

    it('waits at least Retry-After after a 429 before asking the vault again', async () => {
      await env.privateCertificate('throttled', 70);
      await waitForCondition(admin, env.ns, 'throttled', 'Ready', 'True', undefined, WAIT_MS);
      let throttledAt = 0;
      faults.set('throttled', (operation) => {
        if (operation !== 'get') return undefined;
        if (!throttledAt) {
          throttledAt = Date.now();
          return KeyVaultErrors.throttled(8);
        }
        return undefined;
      });
      try {
        const c = await waitForCondition(
          admin,
          env.ns,
          'throttled',
          'Ready',
          'False',
          'VaultUnavailable',
          WAIT_MS,
        );
        expect(condition(c, 'KeyVaultAccessGranted')?.message).toMatch(/429 Throttled/);
        await waitForCondition(admin, env.ns, 'throttled', 'Ready', 'True', undefined, WAIT_MS);
        const after = env.proxy.requests.filter(
          (r) => keyOf(r.path) === `throttled-${env.ns}` && r.at > throttledAt,
        );
        expect(after.length).toBeGreaterThan(0);
        expect(after[0]!.at - throttledAt).toBeGreaterThanOrEqual(8000);
      } finally {
        faults.delete('throttled');
      }
    });

    it('gives up on a vault slower than the deadline (VaultUnavailable) and recovers', async () => {
      await env.privateCertificate('slow', 71);
      await waitForCondition(admin, env.ns, 'slow', 'Ready', 'True', undefined, WAIT_MS);
      faults.set('slow', (operation) => (operation === 'get' ? { delayMs: 45_000 } : undefined));
      try {
        const c = await waitForCondition(
          admin,
          env.ns,
          'slow',
          'Ready',
          'False',
          'VaultUnavailable',
          WAIT_MS,
        );
        expect(condition(c, 'KeyVaultAccessGranted')?.message).toMatch(/timeout/);
      } finally {
        faults.delete('slow');
      }
      await waitForCondition(admin, env.ns, 'slow', 'Ready', 'True', undefined, WAIT_MS);
    }, 180_000);
  },
);

describe.skipIf(!vaultUrl)(
  `What goes on the wire to Key Vault${vaultUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    let env: Awaited<ReturnType<typeof environment>>;
    let elsewhere: Server;
    let elsewhereConnections = 0;

    beforeAll(async () => {
      env = await environment('azure-wire', '1h');
      elsewhere = createServer((s) => {
        elsewhereConnections++;
        s.destroy();
      });
      await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    });
    afterAll(async () => {
      await env?.operator.stop();
      await env?.proxy.stop();
      await new Promise((r) => elsewhere?.close(r));
    });

    it('counts every request on the wire, and a key after the first costs no 401 challenge and one request per operation', async () => {
      await env.privateCertificate('first', 80);
      await waitForCondition(env.admin, env.ns, 'first', 'Ready', 'True', undefined, WAIT_MS);
      await env.privateCertificate('second', 81);
      await waitForCondition(env.admin, env.ns, 'second', 'Ready', 'True', undefined, WAIT_MS);
      const second = env.proxy.requests.filter((r) => keyOf(r.path) === `second-${env.ns}`);
      expect(second.map((r) => r.status)).not.toContain(401);
      // get, list, sign, decrypt, and once per key version the GET that the key's
      // CryptographyClient makes before its first operation.
      expect(second.length).toBeLessThanOrEqual(5);
      // A request still in flight is on the proxy's list before the operator counts its
      // answer (the account's vault probe runs on its own schedule), so wait for them to agree.
      let counted = 0;
      await eventually(
        async () => {
          counted = await env.operator.keyVaultRequests();
          return counted === env.proxy.countedByOperator() ? true : undefined;
        },
        'the operator and the proxy to count the same requests',
        WAIT_MS,
      ).catch(() => expect(counted).toBe(env.proxy.countedByOperator()));
      // The challenges happened on the wire, and were left out on purpose.
      expect(env.proxy.count()).toBeGreaterThan(counted);
    });

    it('refuses an EC key on a Private certificate without asking the vault about it', async () => {
      const key = `ec-${env.ns}`;
      await importKey(vaultAdmin(), key, keyPair('ec256', 83).privateKey);
      await kubectlApply(env.ns, {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'Certificate',
        metadata: { name: 'ec' },
        spec: {
          integrationAccount: { name: 'contoso' },
          type: 'Private',
          certificate: {
            inline: selfSigned('ec256', { keyUsage: ['digitalSignature', 'keyAgreement'] }, 83).pem,
          },
          key: { vault: 'main', name: key },
        },
      });
      const c = await waitForCondition(
        env.admin,
        env.ns,
        'ec',
        'Ready',
        'False',
        'UnsupportedKeyAlgorithm',
        WAIT_MS,
      );
      expect(condition(c, 'CertificateValid')?.message).toMatch(/RSA/);
      expect(c.status?.key).toBeUndefined();
      expect(env.proxy.requests.filter((r) => keyOf(r.path) === key)).toEqual([]);
    });

    it('never connects to a host named by a key id the vault returned', async () => {
      const port = (elsewhere.address() as { port: number }).port;
      env.proxy.rewrite = (_operation, body) =>
        body.replaceAll(new URL(env.url).host + '/keys/', `127.0.0.1:${port}/keys/`);
      try {
        await env.privateCertificate('kid', 82);
        await waitForCondition(env.admin, env.ns, 'kid', 'Ready', 'True', undefined, WAIT_MS);
      } finally {
        env.proxy.rewrite = undefined;
      }
      expect(elsewhereConnections).toBe(0);
    });

    it('stops on SIGTERM within the vault deadline while a vault hangs', async () => {
      env.proxy.fault = ({ path }) =>
        keyOf(path) === `hung-${env.ns}` ? { delayMs: 120_000 } : undefined;
      await env.privateCertificate('hung', 84);
      await eventually(
        () =>
          Promise.resolve(
            env.proxy.requests.some(
              (r) => keyOf(r.path) === `hung-${env.ns}` && r.status === 'pending',
            ) || undefined,
          ),
        'a request to the hung vault',
        WAIT_MS,
      );
      const started = Date.now();
      const code = await env.operator.stop();
      expect(code).toBe(0);
      // In-flight reconciles finish first; a hung vault call ends at its 30 s deadline.
      expect(Date.now() - started).toBeLessThan(45_000);
    }, 120_000);
  },
);
