// The operator as a real process (src/main.ts, as the Docker image runs it) and leader
// election on a real Lease, both as the non-admin operator user.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LeaseType, resourcePath } from '../../src/kube/client.ts';
import { silentLogger } from '../../src/operator/log.ts';
import { LeaderElector } from '../../src/runtime/leader-election.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, operatorClient } from '../support/cluster.ts';
import { killAll, spawnOperator, waitForLog, type OperatorProcess } from '../support/process.ts';
import { createAccount, createCertificate, waitForCondition } from '../support/resources.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(url);
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

describe('the operator process', () => {
  it('serves probes and metrics, reconciles, and exits 0 on SIGTERM', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'process');
    // Ports picked by the OS (a shared machine), read from the start-up log.
    const proc = await spawnOperator({ namespace: ns });
    const { child, exited, probePort, metricsPort } = proc;
    try {
      await eventually(
        async () =>
          (await get(`http://127.0.0.1:${probePort}/readyz`))?.status === 200 ? true : undefined,
        'readyz',
      );
      expect((await get(`http://127.0.0.1:${probePort}/healthz`))?.status).toBe(200);
      await createAccount(admin, ns, 'contoso');
      await createCertificate(admin, ns, 'partner', {
        certificate: { inline: selfSigned('ec256').pem },
      });
      await waitForCondition(admin, ns, 'partner', 'Ready', 'True');
      const metrics = await get(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics?.body).toMatch(
        /b2b_certificate_ready_status\{[^}]*name="partner"[^}]*condition="True"\} 1/,
      );
      expect(metrics?.body).toMatch(/b2b_kube_api_requests_total\{method="PATCH",code="200"\} \d+/);
      expect(metrics?.body).toMatch(/process_resident_memory_bytes/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const output = proc.output();
    const lines = output.trim().split('\n');
    for (const line of lines)
      expect(() => JSON.parse(line) as unknown, `not a JSON log line: ${line}`).not.toThrow();
    expect(output).toMatch(/"msg":"shutting down: finishing in-flight work"/);
    expect(output).toMatch(/"msg":"operator stopped"/);
  });

  it('refuses an unknown flag with a clear message and exit code 2', async () => {
    const child = spawn(process.execPath, ['src/main.ts', '--concurency=3'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown argument --concurency=3; flags: .*--concurrency/);
  });
});

describe('leader election', () => {
  it('lets one operator lead at a time and hands over when the leader stops', async () => {
    const client = operatorClient();
    const name = `test-${Date.now()}`;
    const elector = (hostname: string) =>
      new LeaderElector({
        client,
        namespace: 'b2b-system',
        name,
        hostname,
        log: silentLogger,
        leaseDurationMs: 2_000,
        renewDeadlineMs: 1_500,
        retryPeriodMs: 200,
      });
    const leading: string[] = [];
    const stopA = new AbortController();
    const stopB = new AbortController();
    // A graceful stop (stopA) ends leading; the lease is released afterwards.
    const runA = elector('a').run(stopA.signal, async () => {
      leading.push('a');
      await new Promise((r) => stopA.signal.addEventListener('abort', r));
      leading.push('a stopped');
    });
    await eventually(() => Promise.resolve(leading.includes('a') ? true : undefined), 'a leads');
    const b = elector('b');
    const runB = b.run(stopB.signal, async () => {
      leading.push('b');
      await new Promise((r) => stopB.signal.addEventListener('abort', r));
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(leading).toEqual(['a']); // b waits while a renews
    stopA.abort();
    await runA;
    await eventually(
      () => Promise.resolve(leading.includes('b') ? true : undefined),
      'b takes over',
      10_000,
    );
    expect(leading).toEqual(['a', 'a stopped', 'b']);
    const lease = await client.get<{ spec: { holderIdentity: string; leaseTransitions: number } }>(
      resourcePath(LeaseType, { namespace: 'b2b-system', name }),
    );
    expect(lease.spec).toMatchObject({ holderIdentity: b.identity, leaseTransitions: 1 });
    stopB.abort();
    await runB;
  });
});

describe('two replicas with leader election', () => {
  const leaderArgs = (id: string) => [
    '--leader-elect',
    '--leader-election-namespace=b2b-system',
    `--leader-election-id=${id}`,
  ];

  it('are both live and Ready: the leader reconciles, the standby waits for the lease', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'replicas');
    const id = `ready-${Date.now()}`;
    const procs: OperatorProcess[] = [];
    try {
      const a = await spawnOperator({ namespace: ns, args: leaderArgs(id) });
      procs.push(a);
      await waitForLog(a, 'leader election: leading');
      const b = await spawnOperator({ namespace: ns, args: leaderArgs(id) });
      procs.push(b);
      await waitForLog(b, 'leader election: waiting for the lease');
      for (const p of [a, b]) {
        await eventually(
          async () => ((await p.probe('/readyz')) === 200 ? true : undefined),
          `readyz of ${p.pid}`,
          15_000,
        );
        expect(await p.probe('/healthz')).toBe(200);
      }
      // The standby is Ready while it waits; it does not lead.
      expect(b.logs().some((l) => l.msg === 'leader election: leading')).toBe(false);
      await createAccount(admin, ns, 'contoso');
      await createCertificate(admin, ns, 'partner', {
        certificate: { inline: selfSigned('ec256').pem },
      });
      await waitForCondition(admin, ns, 'partner', 'Ready', 'True');
      for (const p of procs) p.child.kill('SIGTERM');
      expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0]);
    } finally {
      killAll(procs);
    }
  });
});
