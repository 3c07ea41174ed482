// What a failing or silent Azure costs: a refused write, a deleted Azure integration account, a
// transient failure whose message changes at every try, and endpoints (ARM, the token endpoint)
// that accept connections and never answer. Each must cost a bounded number of requests and
// status writes, end within --azure-request-timeout, and leave the other accounts working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reason } from '../../src/api/reasons.ts';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import type { KeyVerifier } from '../../src/vaults/verifier.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { startOperator } from '../support/operator.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
/** A message may name the subscription; any other UUID in it would be a request id. */
const withoutSubscription = (message: string | undefined) => (message ?? '').replaceAll(SUB, '');

const azureStore = (name: string) => ({
  azure: { subscriptionId: SUB, resourceGroup: RG, name, auth: { managedIdentity: {} } },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many times the Certificate was written (status included) during the next `ms`. */
async function writesDuring(
  admin: KubeClient,
  namespace: string,
  name: string,
  ms: number,
): Promise<number> {
  const current = await getCertificate(admin, namespace, name);
  const abort = new AbortController();
  let writes = 0;
  const watching = admin
    .watch<Certificate>(
      resourcePath(CertificateResource, { namespace }),
      {
        fieldSelector: `metadata.name=${name}`,
        resourceVersion: current?.metadata.resourceVersion,
      },
      (event) => {
        if (event.type === 'MODIFIED') writes++;
      },
      { signal: abort.signal, idleTimeoutMs: 60_000 },
    )
    .catch(() => 'aborted' as const);
  await sleep(ms);
  abort.abort();
  await watching;
  return writes;
}

describe('ARM refusals cost a handful of requests, not a loop (operator process, ARM test server)', () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let ns: string;
  let op: OperatorProcess | undefined;

  const armCalls = (method: string, name: string) =>
    arm.calls.filter((c) => c.method === method && c.path.endsWith(`/certificates/${name}`)).length;

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    ns = await createNamespace(admin, 'armbounds');
    op = startOperatorProcess(ns, arm);
  });
  afterAll(async () => {
    await op?.stop();
    await arm?.stop();
  });

  it('a certificate PUT that ARM refuses (400): one status write, the request id only in the log', async () => {
    arm.addAccount(SUB, RG, 'refusing-ia', 'Standard');
    await createAccount(admin, ns, 'refusing', { store: azureStore('refusing-ia') });
    arm.faults.push({
      match: (method, path) => method === 'PUT' && path.endsWith('/certificates/refused'),
      status: 400,
      times: 1_000_000,
    });
    await createCertificate(admin, ns, 'refused', {
      integrationAccount: { name: 'refusing' },
      certificate: { inline: selfSigned('ec256').pem },
    });
    const refused = await waitForCondition(
      admin,
      ns,
      'refused',
      'Ready',
      'False',
      Reason.StoreWriteFailed,
      60_000,
    );
    expect(condition(refused, 'Ready')?.message).toContain('400');
    // ARM's request id changes at every try: in the status it made each try a new write.
    expect(withoutSubscription(condition(refused, 'Ready')?.message)).not.toMatch(UUID);
    expect(op!.output()).toMatch(/"msg":"ARM request failed".*"status":400.*"requestId":"/);
    const [gets, puts] = [armCalls('GET', 'refused'), armCalls('PUT', 'refused')];
    const writes = await writesDuring(admin, ns, 'refused', 4_000);
    expect(writes).toBeLessThanOrEqual(1);
    expect(armCalls('PUT', 'refused') - puts).toBeLessThanOrEqual(2);
    expect(armCalls('GET', 'refused') - gets).toBeLessThanOrEqual(2);
  });

  it('an Azure integration account deleted after the sync: AzureAccountNotFound, and a handful of requests', async () => {
    const accountId = arm.addAccount(SUB, RG, 'deleted-ia', 'Standard');
    await createAccount(admin, ns, 'deleted', { store: azureStore('deleted-ia') });
    await createCertificate(admin, ns, 'orphaned', {
      integrationAccount: { name: 'deleted' },
      certificate: { inline: selfSigned('ec256').pem },
      metadata: { v: '1' },
    });
    await waitForCondition(admin, ns, 'orphaned', 'Ready', 'True', 'Ready', 60_000);
    arm.accounts.delete(accountId.toLowerCase());
    // A change of the certificate writes it again, into an account that is gone.
    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'orphaned' }), {
      spec: { metadata: { v: '2' } },
    });
    const orphaned = await waitForCondition(
      admin,
      ns,
      'orphaned',
      'Ready',
      'False',
      undefined,
      60_000,
    );
    expect(condition(orphaned, 'Ready')?.reason).toBe(Reason.AzureAccountNotFound);
    expect(withoutSubscription(condition(orphaned, 'Ready')?.message)).not.toMatch(UUID);
    const puts = armCalls('PUT', 'orphaned');
    const writes = await writesDuring(admin, ns, 'orphaned', 4_000);
    expect(writes).toBeLessThanOrEqual(1);
    expect(armCalls('PUT', 'orphaned') - puts).toBeLessThanOrEqual(2);
  });
});

describe('a failing certificate waits out its backoff (in-process operator, real API server)', () => {
  it('the echo of its own status write does not run it again before the backoff ends', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'echo');
    let tries = 0;
    // A vault that fails transiently, with a message that differs at every try (as a request
    // id in it would): every try writes status, and its echo comes back as an update.
    const keyVerifier: KeyVerifier = {
      verify: () => {
        tries++;
        return Promise.resolve({
          ok: false,
          reason: Reason.VaultUnavailable,
          message: `the vault did not answer (try ${tries})`,
          terminal: false,
        });
      },
    };
    const op = await startOperator(ns, { keyVerifier });
    try {
      await createAccount(admin, ns, 'contoso', { keyVaults: [{ name: 'main', kubernetes: {} }] });
      await createCertificate(admin, ns, 'flaky', {
        type: 'Private',
        certificate: { inline: privateUsable().pem },
        key: { vault: 'main', name: 'flaky-key' },
      });
      await waitForCondition(admin, ns, 'flaky', 'Ready', 'False', Reason.VaultUnavailable);
      const before = tries;
      await sleep(3_000);
      // Backoff 5 ms, 10 ms, 20 ms, ... doubles: about a dozen tries in 3 s, not hundreds.
      expect(tries - before).toBeLessThanOrEqual(12);
    } finally {
      await op.stop();
    }
  });
});

describe('silent Azure endpoints end at --azure-request-timeout (operator process)', () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let armProxy: TcpProxy;
  let tokenProxy: TcpProxy;
  let ns: string;
  let op: OperatorProcess | undefined;

  const accountReady = (name: string) =>
    eventually(async () => {
      const a = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace: ns, name }),
      );
      return condition(a, 'Ready')?.status === 'True' ? a : undefined;
    }, `IntegrationAccount ${name} Ready`);
  /** The certificate's Ready condition once its message says `message` (it may wait first). */
  const readyOnceMessage = (name: string, message: RegExp) =>
    eventually(
      async () => {
        const c = await admin.get<Certificate>(
          resourcePath(CertificateResource, { namespace: ns, name }),
        );
        const ready = condition(c, 'Ready');
        return ready && message.test(ready.message) ? ready : undefined;
      },
      `Certificate ${ns}/${name} Ready saying ${message}`,
      30_000,
    );

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    const armUrl = new URL(arm.url);
    const tokenUrl = new URL(arm.tokenAuthority);
    armProxy = new TcpProxy(armUrl.hostname, Number(armUrl.port));
    tokenProxy = new TcpProxy(tokenUrl.hostname, Number(tokenUrl.port));
    const [armPort, tokenPort] = [await armProxy.start(), await tokenProxy.start()];
    ns = await createNamespace(admin, 'armsilent');
    op = startOperatorProcess(ns, arm, {
      armEndpoint: `https://127.0.0.1:${armPort}`,
      tokenAuthority: `http://127.0.0.1:${tokenPort}`,
      env: { B2B_AZURE_REQUEST_TIMEOUT: '2s' },
    });
  });
  afterAll(async () => {
    const code = await op?.stop();
    await armProxy?.stop();
    await tokenProxy?.stop();
    await arm?.stop();
    expect(code).toBe(0);
  });

  it('ARM accepts and never answers: each certificate says so, the slots free, other accounts go on', async () => {
    arm.addAccount(SUB, RG, 'silent-ia', 'Standard');
    armProxy.freeze();
    await createAccount(admin, ns, 'silent', { store: azureStore('silent-ia') });
    // More certificates than the subscription's 4 ARM slots.
    const names = Array.from({ length: 6 }, (_, i) => `silent-${i}`);
    for (const name of names)
      await createCertificate(admin, ns, name, {
        integrationAccount: { name: 'silent' },
        certificate: { inline: selfSigned('ec256').pem },
      });
    // The account controller runs one account at a time: the silent one must not hold it.
    await createAccount(admin, ns, 'inside');
    await accountReady('inside');
    // The account was never read from ARM, so it is not Ready, and its certificates say why.
    for (const name of names) {
      const ready = await readyOnceMessage(name, /no answer from Azure Resource Manager .*2 s/);
      expect(ready.reason).toBe(Reason.IntegrationAccountNotReady);
    }
    // ARM answers again: nobody waits on a stuck slot or a stuck shared check.
    armProxy.thaw();
    for (const name of names)
      await waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready', 60_000);
  });

  it('the token endpoint accepts and never answers: the certificate says so, then syncs once it answers', async () => {
    arm.addAccount(SUB, RG, 'signin-ia', 'Standard');
    tokenProxy.freeze();
    // A new account: new clients, whose first token is asked now.
    await createAccount(admin, ns, 'signin', {
      store: {
        azure: { ...azureStore('signin-ia').azure, auth: { managedIdentity: { clientId: 'c1' } } },
      },
    });
    await createCertificate(admin, ns, 'signin-cert', {
      integrationAccount: { name: 'signin' },
      certificate: { inline: selfSigned('ec256').pem },
    });
    // And a vault whose probe needs a token (the Key Vault emulator answers its challenge).
    const { vaultUrl } = testenv();
    if (vaultUrl)
      await createAccount(admin, ns, 'vaulted', {
        keyVaults: [
          { name: 'main', azure: { vaultUrl, auth: { managedIdentity: { clientId: 'c2' } } } },
        ],
      });
    await createAccount(admin, ns, 'inside-too');
    await accountReady('inside-too');
    if (vaultUrl) {
      const vaulted = await eventually(async () => {
        const a = await admin.get<IntegrationAccount>(
          resourcePath(IntegrationAccountResource, { namespace: ns, name: 'vaulted' }),
        );
        return a.status?.keyVaults?.[0] ? a : undefined;
      }, 'the vault probe of account vaulted');
      expect(vaulted.status?.keyVaults?.[0]).toMatchObject({
        reachable: false,
        reason: Reason.VaultUnavailable,
      });
      expect(vaulted.status?.keyVaults?.[0]?.message).toMatch(/no answer from .* within 2 s/);
    }
    const ready = await readyOnceMessage('signin-cert', /no answer from .* within 2 s/);
    expect(ready).toMatchObject({ status: 'False', reason: Reason.IntegrationAccountNotReady });
    tokenProxy.thaw();
    await waitForCondition(admin, ns, 'signin-cert', 'Ready', 'True', 'Ready', 60_000);
  });
});

describe('SIGTERM reaches ARM calls (operator process)', () => {
  it('cancels a hanging ARM call at the shutdown deadline, not at the request timeout', async () => {
    const admin = adminClient();
    const arm = await new ArmTestServer().start();
    const armUrl = new URL(arm.url);
    const proxy = new TcpProxy(armUrl.hostname, Number(armUrl.port));
    const port = await proxy.start();
    const ns = await createNamespace(admin, 'armterm');
    arm.addAccount(SUB, RG, 'hanging-ia', 'Standard');
    proxy.freeze();
    const op = startOperatorProcess(ns, arm, {
      armEndpoint: `https://127.0.0.1:${port}`,
      env: { B2B_AZURE_REQUEST_TIMEOUT: '5m', B2B_GRACEFUL_SHUTDOWN_TIMEOUT: '1s' },
    });
    try {
      await createAccount(admin, ns, 'hanging', { store: azureStore('hanging-ia') });
      await createCertificate(admin, ns, 'hanging-cert', {
        integrationAccount: { name: 'hanging' },
        certificate: { inline: selfSigned('ec256').pem },
      });
      await eventually(
        () => Promise.resolve(proxy.connections > 0 ? true : undefined),
        'an ARM request in flight',
      );
      await sleep(500);
      const stopping = Date.now();
      expect(await op.stop()).toBe(0);
      // Cancelled at the 1 s deadline; not left to the 5 s "did not stop" exit.
      expect(Date.now() - stopping).toBeLessThan(5_000);
      expect(op.output()).not.toContain('in-flight work did not stop after cancelling');
    } finally {
      await op.stop();
      await proxy.stop();
      await arm.stop();
    }
  });
});
