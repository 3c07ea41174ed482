// Leader election between real operator processes on the real Lease: clocks that disagree, a
// leader frozen by SIGSTOP, and a graceful handover on SIGTERM. Lease timings are the
// defaults (15 s lease, 10 s renew deadline, 2 s retry), as in a cluster.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeaseType, resourcePath } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { HoldingApiProxy } from '../support/api-hold-proxy.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { killAll, spawnOperator, waitForLog, type OperatorProcess } from '../support/process.ts';
import { createAccount, createCertificate, waitForCondition } from '../support/resources.ts';
import { kubeconfigThroughProxy } from '../support/tcp-proxy.ts';

const HOUR = 3_600_000;
const LEADING = 'leader election: leading';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const leaderArgs = (id: string) => [
  '--leader-elect',
  '--leader-election-namespace=b2b-system',
  `--leader-election-id=${id}`,
];

/** An operator process whose wall clock is `offsetMs` off. */
const skewed = (namespace: string, id: string, offsetMs: number) =>
  spawnOperator({
    namespace,
    args: leaderArgs(id),
    nodeArgs: ['--import', './test/support/skewed-clock.ts'],
    env: { B2B_TEST_CLOCK_OFFSET_MS: String(offsetMs) },
  });

const leads = (p: OperatorProcess) => p.logs().some((l) => l.msg === LEADING);
/** The holderIdentity a process goes by, from its log. */
const identityOf = (p: OperatorProcess) => p.logs().find((l) => l.msg === LEADING)?.identity;

async function leaseHolder(id: string): Promise<string | undefined> {
  const lease = await adminClient().get<{ spec: { holderIdentity?: string } }>(
    resourcePath(LeaseType, { namespace: 'b2b-system', name: id }),
  );
  return lease.spec.holderIdentity;
}

describe('leader election between processes', () => {
  it('judges expiry by the local clock: skew neither steals a live lease nor keeps a dead one', async () => {
    const ns = await createNamespace(adminClient(), 'skew');
    const id = `skew-${Date.now()}`;
    const procs: OperatorProcess[] = [];
    try {
      // A's clock is an hour behind: its renewTime looks an hour old to everyone else.
      const a = await skewed(ns, id, -HOUR);
      procs.push(a);
      await waitForLog(a, LEADING);
      // B's clock is an hour ahead.
      const b = await skewed(ns, id, +HOUR);
      procs.push(b);
      await waitForLog(b, 'leader election: waiting for the lease');
      await sleep(8_000); // four retry periods
      expect(leads(b), 'B took a lease A keeps renewing').toBe(false);
      // A dies; B takes over after a lease duration by its own clock.
      let killedAt = Date.now();
      a.child.kill('SIGKILL');
      await waitForLog(b, LEADING, 40_000);
      expect(Date.now() - killedAt).toBeLessThan(30_000);
      // C's clock is an hour behind B's renewTimes; B dies; C must not wait for "renewTime + 15 s".
      const c = await skewed(ns, id, -HOUR);
      procs.push(c);
      await waitForLog(c, 'leader election: waiting for the lease');
      await sleep(4_000);
      expect(leads(c)).toBe(false);
      killedAt = Date.now();
      b.child.kill('SIGKILL');
      await waitForLog(c, LEADING, 40_000);
      expect(Date.now() - killedAt).toBeLessThan(30_000);
    } finally {
      killAll(procs);
    }
  });

  it('replaces a frozen leader (SIGSTOP) only after the lease duration, and the leader stops when it wakes', async () => {
    const ns = await createNamespace(adminClient(), 'sigstop');
    const id = `sigstop-${Date.now()}`;
    const procs: OperatorProcess[] = [];
    try {
      const a = await spawnOperator({ namespace: ns, args: leaderArgs(id) });
      procs.push(a);
      await waitForLog(a, LEADING);
      const b = await spawnOperator({ namespace: ns, args: leaderArgs(id) });
      procs.push(b);
      await waitForLog(b, 'leader election: waiting for the lease');
      await sleep(3_000); // B has seen A renew
      const stoppedAt = Date.now();
      a.child.kill('SIGSTOP');
      await waitForLog(b, LEADING, 45_000);
      const waited = Date.now() - stoppedAt;
      // A renewed at most one retry period (2 s) before it froze, and B counts 15 s from the
      // moment it saw that renewal.
      expect(waited).toBeGreaterThanOrEqual(12_000);
      expect(waited).toBeLessThan(30_000);
      expect(await leaseHolder(id)).toBe(identityOf(b));
      a.child.kill('SIGCONT');
      expect(await a.exited).toBe(1);
      expect(a.output()).toMatch(
        /leader election: (could not renew the lease in time|another process holds the lease); stopping/,
      );
      expect(a.output()).toMatch(/"msg":"operator stopped".*"reason":"leadership lost"/);
      expect(await leaseHolder(id)).toBe(identityOf(b));
    } finally {
      killAll(procs);
    }
  });

  it('hands over gracefully on SIGTERM: in-flight reconciles finish, the lease is released, the standby leads at once', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'handover');
    const id = `handover-${Date.now()}`;
    // A talks to the API server over a slow link, so reconciles are in flight when SIGTERM comes.
    const { proxy, kubeconfig } = await kubeconfigThroughProxy(testenv().operatorKubeconfig);
    proxy.latencyMs = 150;
    const dir = mkdtempSync(join(testenv().dir, 'handover-'));
    writeFileSync(join(dir, 'kubeconfig'), kubeconfig);
    const procs: OperatorProcess[] = [];
    try {
      const a = await spawnOperator({
        namespace: ns,
        args: leaderArgs(id),
        kubeconfig: join(dir, 'kubeconfig'),
      });
      procs.push(a);
      await waitForLog(a, LEADING);
      const b = await spawnOperator({ namespace: ns, args: leaderArgs(id) });
      procs.push(b);
      await waitForLog(b, 'leader election: waiting for the lease');
      await createAccount(admin, ns, 'contoso');
      const names = Array.from({ length: 12 }, (_, i) => `partner-${i}`);
      for (const name of names)
        await createCertificate(admin, ns, name, {
          certificate: { inline: selfSigned('ec256').pem },
        });
      await waitForLog(a, 'reconciled');
      a.child.kill('SIGTERM');
      const shutdown = await waitForLog(a, 'shutting down: finishing in-flight work');
      expect(shutdown.inFlight).toBeGreaterThan(0);
      expect(await a.exited).toBe(0);
      const exitedAt = Date.now();
      expect(a.output()).toMatch(/"msg":"leader election: lease released"/);
      expect(a.output()).not.toMatch(/shutdown deadline passed|reconcile failed/);
      expect(a.logs().find((l) => l.msg === 'operator stopped')).toMatchObject({ drained: true });
      // What was in flight finished: each reconcile started before SIGTERM reported a result.
      const lines = a.logs();
      const termAt = lines.findIndex((l) => l.msg === shutdown.msg);
      const finishedAfter = lines.slice(termAt).filter((l) => l.msg === 'reconciled');
      expect(finishedAfter.length).toBeGreaterThanOrEqual(Number(shutdown.inFlight));
      expect(finishedAfter.filter((l) => l.result === 'cancelled')).toEqual([]);
      // Released, not expired: B leads well within the 15 s lease duration.
      await waitForLog(b, LEADING, 10_000);
      expect(Date.now() - exitedAt).toBeLessThan(8_000);
      for (const name of names) await waitForCondition(admin, ns, name, 'Ready', 'True');
    } finally {
      killAll(procs);
      await proxy.stop();
    }
  });

  it('cancels what is still in flight at the shutdown deadline and still exits 0; the next run converges', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'deadline');
    // Every write of the operator is HELD by a proxy in front of the API server (reads and
    // watches pass): a reconcile cannot finish, so SIGTERM always finds work in flight and the
    // 1 s deadline always passes with it. Not latency: nothing depends on the machine's speed.
    const proxy = new HoldingApiProxy(readFileSync(testenv().operatorKubeconfig, 'utf8'));
    await proxy.start();
    proxy.hold = (r) => r.method !== 'GET';
    const kubeconfig = proxy.kubeconfig(mkdtempSync(join(testenv().dir, 'deadline-')));
    const procs: OperatorProcess[] = [];
    try {
      await createAccount(admin, ns, 'contoso');
      const names = Array.from({ length: 6 }, (_, i) => `partner-${i}`);
      for (const name of names)
        await createCertificate(admin, ns, name, {
          certificate: { inline: selfSigned('ec256').pem },
        });
      const a = await spawnOperator({
        namespace: ns,
        args: ['--graceful-shutdown-timeout=1s'],
        kubeconfig,
      });
      procs.push(a);
      // Certificate reconciles are stuck on their first write.
      await eventually(
        () =>
          Promise.resolve(proxy.held.some((r) => r.path.includes('/certificates/')) || undefined),
        'a certificate write held by the proxy',
        60_000,
      );
      const termAt = Date.now();
      a.child.kill('SIGTERM');
      const shutdown = await waitForLog(a, 'shutting down: finishing in-flight work');
      expect(shutdown.inFlight).toBeGreaterThan(0);
      expect(await a.exited).toBe(0);
      expect(Date.now() - termAt).toBeLessThan(8_000); // 1 s deadline, cancelled requests end at once
      expect(a.output()).toMatch(/"msg":"shutdown deadline passed; cancelling in-flight work"/);
      expect(a.logs().find((l) => l.msg === 'operator stopped')).toMatchObject({ drained: false });
      // Every reconcile in flight ended (its pending request aborted at the deadline).
      const after = a.logs().slice(a.logs().findIndex((l) => l.msg === shutdown.msg));
      expect(after.filter((l) => l.msg === 'reconciled').length).toBeGreaterThanOrEqual(
        Number(shutdown.inFlight),
      );
      // ...cancelled, not finished: their writes were still held when the deadline passed.
      expect(
        after.filter((l) => l.msg === 'reconciled' && l.result === 'cancelled').length,
      ).toBeGreaterThanOrEqual(Number(shutdown.inFlight));
      await eventually(
        () => Promise.resolve(proxy.held.length === 0 || undefined),
        'the held requests to be given up by the exited process',
      );
      // Nothing was left half-done: a fresh operator brings every certificate to Ready.
      const b = await spawnOperator({ namespace: ns });
      procs.push(b);
      for (const name of names) await waitForCondition(admin, ns, name, 'Ready', 'True');
    } finally {
      killAll(procs);
      await proxy.stop();
    }
  });
});
