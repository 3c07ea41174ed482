// Uninstalling keeps every store entry (docs/API.md, "Uninstalling"). Deleting the CRDs deletes
// every Certificate, so these tests run on a control plane of their own (hack/testenv.sh up with
// its own TESTENV_DIR, garbage collector included): the shared one serves the other test files
// running in parallel. Both stores: Secrets, and Azure certificates on the ARM test server.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../src/api/types.ts';
import { KubeClient, SecretType, isNotFound, resourcePath } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { selfSigned } from '../support/certs.ts';
import { createNamespace, eventually } from '../support/cluster.ts';
import { createAccount, createCertificate, getCertificate } from '../support/resources.ts';
import { goTool, TOOL_BUILD_TIMEOUT_MS } from '../support/tools.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';
const CRDS = ['certificates.integration.b2b.dev', 'integrationaccounts.integration.b2b.dev'];

describe('uninstalling keeps every store entry (a control plane of its own)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-uninstall-test-'));
  const env = { ...process.env, TESTENV_DIR: dir, TESTENV_VAULT_EMULATOR: '0' };
  let vars: Record<string, string>;
  let admin: KubeClient;
  let arm: ArmTestServer;
  let accountId: string;
  let op: OperatorProcess | undefined;

  const kubectl = async (...args: string[]) => {
    const bin = join(vars.PATH!.split(':')[0]!, 'kubectl');
    const { stdout } = await run(bin, ['--kubeconfig', vars.KUBECONFIG!, ...args], {
      timeout: 120_000,
      cwd: root,
    });
    return stdout;
  };
  const installCrds = async () => {
    await kubectl('apply', '-f', join(root, 'crds'));
    await kubectl('wait', '--for=condition=Established', 'crd', ...CRDS, '--timeout=60s');
    // A new CRD answers 429 "storage is (re)initializing" until its watch cache is ready.
    await eventually(() => kubectl('get', 'b2b', '-A').then(() => true), 'the CRDs served');
  };
  const secretExists = async (ns: string, name: string) => {
    try {
      await admin.get(resourcePath(SecretType, { namespace: ns, name }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  };
  const crdGone = () =>
    eventually(
      async () =>
        (await kubectl('get', 'crd', '-o', 'name')).includes(CRDS[0]!) ? undefined : true,
      'the Certificate CRD gone',
      90_000,
    );
  const startOperator = (ns: string) =>
    startOperatorProcess(ns, arm, { env: { B2B_KUBECONFIG: vars.B2B_OPERATOR_KUBECONFIG! } });

  /** A namespace with a kubernetes-store and an azure-store account, one Delete certificate each. */
  async function certificatesInBothStores(prefix: string) {
    const ns = await createNamespace(admin, prefix);
    await createAccount(admin, ns, 'contoso');
    await createAccount(admin, ns, 'azure', {
      store: {
        azure: {
          subscriptionId: SUB,
          resourceGroup: RG,
          name: 'contoso-ia',
          auth: { managedIdentity: {} },
        },
      },
    });
    const pem = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] }).pem;
    await createCertificate(admin, ns, 'kube', {
      certificate: { inline: pem },
      deletionPolicy: 'Delete',
    });
    await createCertificate(admin, ns, `az-${ns}`, {
      integrationAccount: { name: 'azure' },
      certificate: { inline: pem },
      deletionPolicy: 'Delete',
    });
    return ns;
  }

  const synced = (ns: string) =>
    eventually(
      async () => {
        const inSecret = await secretExists(ns, 'kube-b2bcert');
        const inAzure = arm.certificate(accountId, `az-${ns}`) !== undefined;
        const kube = await getCertificate(admin, ns, 'kube');
        return inSecret && inAzure && kube?.metadata.finalizers?.includes(FINALIZER)
          ? true
          : undefined;
      },
      `both entries of ${ns} written`,
      60_000,
    );

  const entriesKept = async (ns: string) => {
    expect(await secretExists(ns, 'kube-b2bcert')).toBe(true);
    const secret = await admin.get<{
      metadata: { ownerReferences?: unknown[]; annotations?: Record<string, string> };
    }>(resourcePath(SecretType, { namespace: ns, name: 'kube-b2bcert' }));
    expect(secret.metadata.ownerReferences ?? []).toEqual([]);
    // Still names its Certificate: the same one applied again after a reinstall adopts it.
    expect(secret.metadata.annotations?.['integration.b2b.dev/certificate']).toBe('kube');
    const azure = arm.certificate(accountId, `az-${ns}`) as
      { properties: { metadata?: { b2bOperator?: { certificate?: string } } } } | undefined;
    expect(azure?.properties.metadata?.b2bOperator?.certificate).toBe(`${ns}/az-${ns}`);
  };

  beforeAll(async () => {
    await run(join(root, 'hack/testenv.sh'), ['up'], { env, cwd: root, timeout: 240_000 });
    vars = Object.fromEntries(
      [...readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map(
        (m) => [m[1]!, m[2]!],
      ),
    );
    admin = KubeClient.load(vars.KUBECONFIG);
    arm = await new ArmTestServer().start();
    accountId = arm.addAccount(SUB, RG, 'contoso-ia', 'Standard');
    await installCrds();
  }, 300_000);

  afterAll(async () => {
    await op?.stop();
    await arm?.stop();
    await run(join(root, 'hack/testenv.sh'), ['down'], { env, cwd: root }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('deleting one Delete Certificate still removes its Secret and its Azure certificate', async () => {
    const ns = await certificatesInBothStores('one');
    op = startOperator(ns);
    await synced(ns);
    await kubectl('-n', ns, 'delete', 'b2bcert', 'kube', `az-${ns}`, '--timeout=60s');
    expect(await secretExists(ns, 'kube-b2bcert')).toBe(false);
    expect(arm.certificate(accountId, `az-${ns}`)).toBeUndefined();
    await op.stop();
    op = undefined;
  }, 180_000);

  it('deleting the CRDs with the operator running keeps the Secret and the Azure certificate of Delete Certificates', async () => {
    const ns = await certificatesInBothStores('running');
    op = startOperator(ns);
    await synced(ns);
    await kubectl('delete', 'crd', ...CRDS, '--timeout=90s');
    await crdGone();
    await entriesKept(ns);
    expect(op.output()).toContain('the Certificate CRD is being deleted');
    await op.stop();
    op = undefined;
    await installCrds();
  }, 240_000);

  it('deleting the CRDs with the operator stopped waits for it; started again, it keeps the entries', async () => {
    const ns = await certificatesInBothStores('stopped');
    op = startOperator(ns);
    await synced(ns);
    await op.stop();
    op = undefined;
    await kubectl('delete', 'crd', ...CRDS, '--wait=false');
    // The finalizer holds the Certificates, and with them the CRD.
    await eventually(
      async () => (await getCertificate(admin, ns, 'kube'))?.metadata.deletionTimestamp,
      'the Certificate being deleted',
      60_000,
    );
    expect((await kubectl('get', 'crd', CRDS[0]!, '-o', 'name')).trim()).toBe(
      `customresourcedefinition.apiextensions.k8s.io/${CRDS[0]}`,
    );
    op = startOperator(ns);
    await crdGone();
    await entriesKept(ns);
    await op.stop();
    op = undefined;
    await installCrds();
  }, 240_000);

  it('deleting the CRDs with the operator stopped and the finalizers removed by hand keeps the entries (no ownerReference)', async () => {
    const ns = await certificatesInBothStores('byhand');
    op = startOperator(ns);
    await synced(ns);
    await op.stop();
    op = undefined;
    await kubectl('delete', 'crd', ...CRDS, '--wait=false');
    for (const name of ['kube', `az-${ns}`])
      await eventually(
        async () =>
          (await getCertificate(admin, ns, name))?.metadata.deletionTimestamp ? true : undefined,
        `${name} being deleted`,
        60_000,
      );
    for (const name of ['kube', `az-${ns}`])
      await kubectl(
        '-n',
        ns,
        'patch',
        'b2bcert',
        name,
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/metadata/finalizers"}]',
      );
    await crdGone();
    // Give the garbage collector time to act on anything it could.
    await new Promise((r) => setTimeout(r, 5_000));
    await entriesKept(ns);
    await installCrds();
  }, 240_000);

  it(
    'helm uninstall leaves the CRDs, the Certificates and their entries',
    async () => {
      const helm = goTool('helm');
      const home = mkdtempSync(join(tmpdir(), 'b2b-helm-'));
      const helmEnv = {
        ...process.env,
        KUBECONFIG: vars.KUBECONFIG,
        HELM_CACHE_HOME: join(home, 'c'),
        HELM_CONFIG_HOME: join(home, 'f'),
        HELM_DATA_HOME: join(home, 'd'),
      };
      const helmRun = (...args: string[]) =>
        run(helm, args, { env: helmEnv, cwd: root, timeout: 120_000 });
      await kubectl('create', 'namespace', 'b2b-helm');
      await helmRun('install', 'b2b', 'charts/b2b-certificate-operator', '-n', 'b2b-helm');
      const ns = await certificatesInBothStores('helm');
      op = startOperator(ns);
      await synced(ns);
      await helmRun('uninstall', 'b2b', '-n', 'b2b-helm', '--wait');
      expect((await kubectl('get', 'crd', '-o', 'name')).split('\n')).toEqual(
        expect.arrayContaining(
          CRDS.map((c) => `customresourcedefinition.apiextensions.k8s.io/${c}`),
        ),
      );
      expect((await getCertificate(admin, ns, 'kube'))?.metadata.deletionTimestamp).toBeUndefined();
      await entriesKept(ns);
      await op.stop();
      op = undefined;
      rmSync(home, { recursive: true, force: true });
    },
    TOOL_BUILD_TIMEOUT_MS,
  );

  it('kubectl delete -k deploy/ keeps every entry: the operator loses its RBAC with it, the Certificates wait, and removing their finalizers by hand deletes nothing', async () => {
    await kubectl('apply', '-k', 'deploy/', '--server-side');
    const ns = await certificatesInBothStores('kustomize');
    op = startOperator(ns);
    await synced(ns);
    // The ClusterRole the operator runs with (the testenv user is bound to it) goes too.
    await kubectl('delete', '-k', 'deploy/', '--wait=false');
    await eventually(
      async () =>
        (await getCertificate(admin, ns, 'kube'))?.metadata.deletionTimestamp ? true : undefined,
      'the Certificate being deleted',
      60_000,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    await entriesKept(ns);
    await op.stop();
    const operatorLog = op.output().split('\n');
    op = undefined;
    // Every Certificate left in the cluster (the helm test's too) waits for an operator that is
    // gone: what an administrator does then.
    const waiting = (
      await kubectl(
        'get',
        'b2bcert',
        '-A',
        '-o',
        'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}',
      )
    )
      .split(' ')
      .filter(Boolean);
    // Each of this test's Certificates either waits, or was released by the operator before its
    // RBAC went (the deletion order of deploy/'s objects decides), keeping its entry: its log says so.
    const released = (name: string) =>
      operatorLog.some(
        (l) =>
          l.includes('store entry kept: the Certificate CRD is being deleted') &&
          l.includes(`"name":"${name}"`),
      );
    for (const name of ['kube', `az-${ns}`])
      expect(waiting.includes(`${ns}/${name}`) || released(name), name).toBe(true);
    expect(waiting.length).toBeGreaterThan(0); // the helm test's wait: no operator runs for them
    for (const key of waiting) {
      const [namespace = '', name = ''] = key.split('/');
      await kubectl(
        '-n',
        namespace,
        'patch',
        'b2bcert',
        name,
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/metadata/finalizers"}]',
      );
    }
    await crdGone();
    await new Promise((r) => setTimeout(r, 5_000));
    await entriesKept(ns);
  }, 240_000);
});
