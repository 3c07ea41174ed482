// `make demo` (hack/demo.sh) and `make testenv-down` (hack/testenv.sh down) on a control plane of
// their own: the demo comes up although the ports picked for its components were taken before
// they could bind them, a second run keeps the cluster and its one operator, and `down` stops
// every process. The Key Vault emulator is the shared one (a second Java would cost a minute),
// with a vault of the demo's own: the demo moves its vault's clock on to show a renewal.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testenv } from '../support/cluster.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { NO_EMULATOR } from '../support/vault.ts';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const { vaultUrl, vaultCaFile, tokenAuthority } = testenv();

/** The processes whose command line mentions `text`, by pid. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A port something listens on, as if another control plane took it first. */
async function takenPort(servers: Server[]): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe.skipIf(!vaultUrl)(`make demo and testenv${vaultUrl ? '' : `: ${NO_EMULATOR}`}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-demo-test-'));
  const servers: Server[] = [];
  const taken: Record<string, number> = {};
  let proxy: TcpProxy | undefined;
  let demoVaultUrl = '';
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    TESTENV_DIR: dir,
    TESTENV_VAULT_EMULATOR: '0',
    // For tests only: each named component's first port is this one, unchecked.
    TESTENV_FIRST_PORTS: Object.entries(taken)
      .map(([name, port]) => `${name}=${port}`)
      .join(' '),
    B2B_TEST_VAULT_URL: demoVaultUrl,
    B2B_ALLOWED_VAULT_HOSTS: new URL(demoVaultUrl).host,
    NODE_EXTRA_CA_CERTS: vaultCaFile,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: tokenAuthority,
  });
  const demo = () =>
    run(join(root, 'hack/demo.sh'), [], { env: env(), cwd: root, timeout: 400_000 });
  const testenvSh = (...args: string[]) =>
    run(join(root, 'hack/testenv.sh'), args, { env: env(), cwd: root, timeout: 120_000 });
  const vars = () =>
    Object.fromEntries(
      [...readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map(
        (m) => [m[1]!, m[2]!],
      ),
    );
  const kubectl = (...args: string[]) => {
    const v = vars();
    return run(join(v.PATH!.split(':')[0]!, 'kubectl'), ['--kubeconfig', v.KUBECONFIG!, ...args]);
  };
  const pidOf = (name: string) => Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim());
  const operators = () => processesMentioning(join(dir, 'operator.kubeconfig'));

  beforeAll(async () => {
    for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager'])
      taken[name] = await takenPort(servers);
    // The same emulator under another port is another vault, once registered.
    proxy = new TcpProxy('127.0.0.1', Number(new URL(vaultUrl!).port));
    demoVaultUrl = `https://localhost:${await proxy.start()}`;
    const res = await fetch(`${new URL(vaultUrl!).origin}/management/vault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        baseUri: demoVaultUrl,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      }),
    });
    expect(res.status, await res.text()).toBeLessThan(300);
  });
  afterAll(async () => {
    await testenvSh('down').catch(() => undefined);
    for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
    for (const server of servers) server.close();
    await proxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('comes up when the ports picked for etcd, kube-apiserver and kube-controller-manager were taken before they could bind them', async () => {
    const { stdout, stderr } = await demo();
    expect(stdout).toMatch(/contoso-signing/);
    // A Key Vault certificate renewed by Key Vault (time shift), synced with its new key version.
    expect(stdout).toMatch(
      /^contoso-renewing renewed: Key Vault certificate contoso-renewing: version \S+ \(thumbprint [0-9A-F]{40}\) replaced version \S+/m,
    );
    // The operator bound 127.0.0.1:0: the demo says where its metrics are.
    const metricsUrl = /^Metrics: (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m.exec(stdout)?.[1];
    expect(metricsUrl, stdout).toBeDefined();
    expect(await (await fetch(metricsUrl!)).text()).toContain('b2b_reconcile_total');
    for (const name of Object.keys(taken)) {
      expect(stderr).toContain(`${name} could not bind a port another process took first`);
      const failed = readFileSync(join(dir, `${name}.port-taken-1.log`), 'utf8');
      expect(failed).toMatch(/address already in use/i);
    }
    const server = readFileSync(vars().KUBECONFIG!, 'utf8').match(/server: (.*)/)![1]!;
    expect(new URL(server).port).not.toBe(String(taken['kube-apiserver']));
    expect((await kubectl('get', '--raw', '/readyz')).stdout).toBe('ok');
    const status = await testenvSh('status');
    expect(status.stdout).toMatch(/^etcd: running$/m);
    expect(status.stdout).toMatch(/^kube-apiserver: running$/m);
    expect(status.stdout).toMatch(/^kube-controller-manager: running$/m);
    expect(status.stdout).toMatch(/^operator: running$/m);
    expect(status.stdout).not.toMatch(/dead/);
  }, 420_000);

  it('a second run keeps the cluster, its data and its one operator', async () => {
    await kubectl('-n', 'b2b', 'create', 'configmap', 'made-between-runs', '--from-literal=a=b');
    const before = { etcd: pidOf('etcd'), operator: pidOf('operator'), operators: operators() };
    expect(before.operators).toEqual([before.operator]);

    const { stdout } = await demo();

    expect(stdout).toMatch(/testenv already running/);
    expect(stdout).toMatch(/operator already running/);
    expect(stdout).toMatch(/^contoso-renewing renewed: Key Vault certificate contoso-renewing/m);
    expect((await kubectl('-n', 'b2b', 'get', 'configmap', 'made-between-runs')).stdout).toMatch(
      /made-between-runs/,
    );
    expect(pidOf('etcd')).toBe(before.etcd);
    expect(operators()).toEqual([before.operator]);
  }, 420_000);

  it('down stops every process it started, the operator included', async () => {
    const pids = readdirSync(dir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => pidOf(f.slice(0, -4)));
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(processesMentioning(dir).length).toBeGreaterThanOrEqual(4);

    const { stdout } = await testenvSh('down');

    expect(stdout).toMatch(/testenv down/);
    expect(pids.filter(alive)).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    expect(existsSync(join(dir, 'env'))).toBe(false);
    await expect(testenvSh('status')).rejects.toMatchObject({
      stdout: expect.stringMatching(/not running/) as unknown,
    });
  }, 120_000);
});
