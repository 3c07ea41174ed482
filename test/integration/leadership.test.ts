// Leadership as a fence: a leader that can no longer renew its Lease cancels the work it has
// in flight before any other process can hold the Lease, and writes nothing after.
import { describe, expect, it } from 'vitest';
import { SecretType, isNotFound, resourcePath } from '../../src/kube/client.ts';
import { createLogger, silentLogger } from '../../src/operator/log.ts';
import { Metrics } from '../../src/operator/metrics.ts';
import { Operator } from '../../src/operator/operator.ts';
import { LeaderElector } from '../../src/runtime/leader-election.ts';
import type { KeyVerifier } from '../../src/vaults/verifier.ts';
import { privateUsable } from '../support/certs.ts';
import {
  adminClient,
  createNamespace,
  eventually,
  operatorClient,
  testenv,
} from '../support/cluster.ts';
import { WRITE_METHODS } from '../support/operator.ts';
import { createAccount, createCertificate, getCertificate } from '../support/resources.ts';
import { clientThroughProxy } from '../support/tcp-proxy.ts';

describe('a leader that loses its lease', () => {
  it('cancels in-flight reconciles before another process can take the lease, and writes nothing after', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'fence');
    await createAccount(admin, ns, 'contoso', {
      keyVaults: [{ name: 'in-cluster', kubernetes: {} }],
    });
    const lease = `fence-${Date.now()}`;
    const elector = (client: ReturnType<typeof operatorClient>, hostname: string) =>
      new LeaderElector({
        client,
        namespace: 'b2b-system',
        name: lease,
        hostname,
        log: silentLogger,
        leaseDurationMs: 4_000,
        renewDeadlineMs: 2_500,
        retryPeriodMs: 500,
      });
    // Leader A talks to the API server through a proxy the test can cut (a partition).
    const { proxy, client } = await clientThroughProxy(testenv().operatorKubeconfig);
    const writes: { at: number; method: string; path: string }[] = [];
    client.onRequest((r) => {
      if (WRITE_METHODS.has(r.method)) writes.push({ at: Date.now(), ...r });
    });
    // A reconcile held in flight: the key verification waits for the test.
    let entered!: () => void;
    const inFlight = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const keyVerifier: KeyVerifier = {
      async verify(request) {
        entered();
        await gate;
        return {
          ok: true,
          vaultUrl: request.vault.vaultUrl,
          name: request.key.name,
          version: '1',
          grants: ['sign'],
          verifiedAt: new Date(),
        };
      },
    };
    const a = elector(client, 'a');
    const logs: string[] = [];
    const operator = new Operator({
      client,
      log: createLogger('debug', {}, (l) => logs.push(l)),
      metrics: new Metrics(),
      settings: {
        watchNamespaces: [ns],
        concurrency: 2,
        recheckIntervalMs: 3_600_000,
        allowedVaultHosts: [],
      },
      keyVerifier,
      isLeader: () => a.isLeading(),
    });
    const stopA = new AbortController();
    const cancelA = new AbortController();
    let lostAt = 0;
    const runA = a.run(stopA.signal, (leading) => {
      leading.addEventListener('abort', () => {
        lostAt = Date.now();
        cancelA.abort(leading.reason);
      });
      return operator.run(AbortSignal.any([stopA.signal, leading]), cancelA.signal);
    });
    const stopB = new AbortController();
    let acquiredAt = 0;
    try {
      await createCertificate(admin, ns, 'partner', {
        type: 'Private',
        certificate: { inline: privateUsable({}, 11).pem },
        key: { vault: 'in-cluster', name: 'partner-key' },
      });
      await inFlight; // A's reconcile of partner is past its finalizer, verifying the key
      proxy.outage(); // A can no longer renew
      const b = elector(operatorClient(), 'b');
      const runB = b.run(stopB.signal, async () => {
        acquiredAt = Date.now();
        await new Promise((r) => stopB.signal.addEventListener('abort', r));
      });
      await eventually(() => Promise.resolve(acquiredAt || undefined), 'b to lead', 30_000);
      expect(lostAt, 'A stopped leading').toBeGreaterThan(0);
      expect(lostAt, 'A stopped before B could lead').toBeLessThan(acquiredAt);
      // The partition heals and A's reconcile gets its key verdict: it must not write now.
      proxy.restore();
      release();
      await Promise.race([runA, new Promise((r) => setTimeout(r, 10_000))]);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(writes.filter((w) => w.at >= acquiredAt)).toEqual([]);
      const secret = await admin
        .get(resourcePath(SecretType, { namespace: ns, name: 'partner-b2bcert' }))
        .catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
      expect(secret, 'no store entry written by the old leader').toBeUndefined();
      // Status may have been written before A's reconcile reached the key; none says Synced.
      const cert = await getCertificate(admin, ns, 'partner');
      expect(cert?.status?.conditions?.find((c) => c.type === 'Synced')?.status).not.toBe('True');
      expect(await runA).toEqual({ lost: true });
      stopB.abort();
      await runB;
    } finally {
      release();
      stopA.abort();
      stopB.abort();
      proxy.restore();
      await proxy.stop();
    }
  });
});

describe('two replicas with the same hostname and pid', () => {
  it('(hostNetwork pods on one node, both pid 1) never lead at the same time', async () => {
    const lease = `same-host-${Date.now()}`;
    const elector = () =>
      new LeaderElector({
        client: operatorClient(),
        namespace: 'b2b-system',
        name: lease,
        hostname: 'node-1',
        log: silentLogger,
        leaseDurationMs: 2_000,
        renewDeadlineMs: 1_500,
        retryPeriodMs: 200,
      });
    const [a, b] = [elector(), elector()];
    expect(a.identity).not.toBe(b.identity);
    const stop = new AbortController();
    const leading = new Set<string>();
    const lead = (name: string) => async (lost: AbortSignal) => {
      leading.add(name);
      await new Promise((r) => AbortSignal.any([stop.signal, lost]).addEventListener('abort', r));
    };
    const runs = [a.run(stop.signal, lead('a')), b.run(stop.signal, lead('b'))];
    try {
      await eventually(() => Promise.resolve(leading.size > 0 || undefined), 'one leads');
      await new Promise((r) => setTimeout(r, 3_000)); // more than a lease duration
      expect([...leading]).toHaveLength(1);
      expect([a.isLeading(), b.isLeading()].filter(Boolean)).toHaveLength(1);
    } finally {
      stop.abort();
      await Promise.all(runs);
    }
  });
});
