// The election's decisions with a plain-object Lease store and hand-driven clocks (the real
// Lease and real processes are in test/integration/leader-processes.test.ts).
import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeClient } from '../../../src/kube/client.ts';
import { silentLogger } from '../../../src/operator/log.ts';
import { LeaderElector } from '../../../src/runtime/leader-election.ts';

interface StoredLease {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: Record<string, unknown>;
}

/** One Lease with optimistic concurrency, as the API server keeps it. */
function leaseStore() {
  let lease: StoredLease | undefined;
  let rv = 0;
  const client = {
    request: (method: string, _path: string, options: { body?: StoredLease }) => {
      if (method === 'GET') {
        if (!lease) return Promise.reject(new KubeApiError(404, {}, 'GET'));
        return Promise.resolve(structuredClone(lease));
      }
      const body = options.body!;
      if (method === 'POST' && lease) return Promise.reject(new KubeApiError(409, {}, 'POST'));
      if (method === 'PUT' && body.metadata.resourceVersion !== lease?.metadata.resourceVersion)
        return Promise.reject(new KubeApiError(409, {}, 'PUT'));
      lease = {
        ...structuredClone(body),
        metadata: { ...body.metadata, resourceVersion: String(++rv) },
      };
      return Promise.resolve(lease);
    },
  } as unknown as KubeClient;
  return { client, lease: () => lease };
}

function candidate(client: KubeClient, hostname: string, clock: { wall: number; mono: number }) {
  return new LeaderElector({
    client,
    namespace: 'ns',
    name: 'lease',
    hostname,
    log: silentLogger,
    now: () => new Date(clock.wall),
    monotonic: () => clock.mono,
  });
}

describe('LeaderElector decisions', () => {
  it("ignores the holder's renewTime: a holder whose clock is hours behind keeps its lease", async () => {
    const store = leaseStore();
    const aClock = { wall: Date.parse('2026-01-01T10:00:00Z'), mono: 0 };
    const bClock = { wall: Date.parse('2026-01-01T13:00:00Z'), mono: 5_000 };
    const a = candidate(store.client, 'a', aClock);
    const b = candidate(store.client, 'b', bClock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false); // first sight: B waits a lease duration
    for (let t = 1; t <= 10; t++) {
      aClock.mono += 2_000;
      bClock.mono += 2_000;
      aClock.wall += 2_000;
      bClock.wall += 2_000;
      expect(await a.tryAcquireOrRenew()).toBe(true);
      expect(await b.tryAcquireOrRenew()).toBe(false);
    }
  });

  it('counts any write as a change, even one with the same times', async () => {
    const store = leaseStore();
    const aClock = { wall: Date.parse('2026-01-01T10:00:00Z'), mono: 0 };
    const bClock = { wall: Date.parse('2026-01-01T10:00:00Z'), mono: 0 };
    const a = candidate(store.client, 'a', aClock);
    const b = candidate(store.client, 'b', bClock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    for (let t = 1; t <= 10; t++) {
      aClock.mono += 2_000;
      bClock.mono += 2_000; // the wall clocks stand still
      expect(await a.tryAcquireOrRenew()).toBe(true);
      expect(await b.tryAcquireOrRenew()).toBe(false);
    }
  });

  it('takes a lease over only a lease duration after it last saw the record change', async () => {
    const store = leaseStore();
    const aClock = { wall: Date.parse('2026-01-01T13:00:00Z'), mono: 0 };
    const bClock = { wall: Date.parse('2026-01-01T10:00:00Z'), mono: 0 };
    const a = candidate(store.client, 'a', aClock);
    const b = candidate(store.client, 'b', bClock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    bClock.mono = 1_000;
    expect(await b.tryAcquireOrRenew()).toBe(false); // sees the record at 1 s
    bClock.mono = 15_999;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    bClock.mono = 16_001;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(store.lease()?.spec).toMatchObject({ holderIdentity: b.identity, leaseTransitions: 1 });
  });

  it('gives two electors of one hostname and pid (hostNetwork replicas, both pid 1) different identities: only one leads', async () => {
    const store = leaseStore();
    const clock = { wall: Date.parse('2026-01-01T10:00:00Z'), mono: 0 };
    const a = candidate(store.client, 'node-1', clock);
    const b = candidate(store.client, 'node-1', clock);
    expect(a.identity).toMatch(
      /^node-1_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(b.identity).not.toBe(a.identity);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    for (let t = 1; t <= 5; t++) {
      clock.mono += 2_000;
      expect(await b.tryAcquireOrRenew()).toBe(false);
      expect(await a.tryAcquireOrRenew()).toBe(true);
    }
    expect(store.lease()?.spec.holderIdentity).toBe(a.identity);
  });

  it('is leading only while its last renewal started within the renew deadline; releases on stop', async () => {
    const store = leaseStore();
    const clock = { wall: Date.now(), mono: 100 };
    const a = candidate(store.client, 'a', clock);
    const stop = new AbortController();
    let led: () => void = () => undefined;
    const leading = new Promise<void>((r) => (led = r));
    const run = a.run(stop.signal, () => {
      led();
      return new Promise<void>((r) => stop.signal.addEventListener('abort', () => r()));
    });
    await leading;
    expect(a.state).toBe('leading');
    expect(a.isLeading()).toBe(true);
    clock.mono += 10_001; // frozen past the renew deadline: no timer has run yet
    expect(a.isLeading()).toBe(false);
    clock.mono -= 10_001;
    stop.abort();
    expect(await run).toEqual({ lost: false });
    expect(store.lease()?.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(a.state).toBe('stopped');
  });
});
