import { describe, expect, it, vi } from 'vitest';
import {
  ExponentialBackoff,
  MaxOf,
  TokenBucket,
  defaultRateLimiter,
} from '../../../src/runtime/rate-limiter.ts';
import { WorkQueue } from '../../../src/runtime/workqueue.ts';
import { Controller } from '../../../src/runtime/controller.ts';
import { createLogger, silentLogger } from '../../../src/operator/log.ts';

const noDelay = () => new WorkQueue<string>(new ExponentialBackoff(0, 0));
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('WorkQueue', () => {
  it('queues a waiting key once', async () => {
    const q = noDelay();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key to two workers; a key re-added while processing runs once more after', async () => {
    const q = noDelay();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0); // held back while 'a' is processing
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await tick();
    expect(second).toBeUndefined();
    q.done('a');
    await tick();
    expect(second).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('hands out what users changed before background work (fan-out from a shared Secret, rechecks)', async () => {
    const q = noDelay();
    for (let i = 0; i < 1000; i++) q.add(`shared-${i}`, 'background');
    q.add('healthy');
    expect(await q.get()).toBe('healthy');
    expect(await q.get()).toBe('shared-0');
    // A background key a user then changes moves ahead; one changed again later keeps its place.
    q.add('shared-500');
    q.add('shared-1', 'background');
    expect(await q.get()).toBe('shared-500');
    expect(await q.get()).toBe('shared-1');
    expect(q.length).toBe(997);
  });

  it('serves background work at least every 4th pick while urgent work never runs out (retries under slow reconciles)', async () => {
    const q = noDelay();
    for (let i = 0; i < 8; i++) q.add(`retry-${i}`);
    q.add('renewed-source', 'background');
    q.add('recheck', 'background');
    const picks: string[] = [];
    for (let i = 0; i < 8; i++) {
      const key = (await q.get())!;
      picks.push(key);
      q.done(key);
      if (key.startsWith('retry-')) q.add(key); // failed again: back in the urgent lane
    }
    expect(picks.indexOf('renewed-source')).toBeGreaterThanOrEqual(0);
    expect(picks.indexOf('renewed-source')).toBeLessThan(4);
    expect(picks.indexOf('recheck')).toBeLessThan(8);
    expect(picks.indexOf('recheck')).toBeGreaterThan(picks.indexOf('renewed-source'));
    // Urgent work still has most picks.
    expect(picks.filter((k) => k.startsWith('retry-'))).toHaveLength(6);
  });

  it('re-queues a key added while processing in the lane of that add', async () => {
    const q = noDelay();
    q.add('a', 'background');
    q.add('b', 'background');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.done('a');
    expect(await q.get()).toBe('a');
  });

  it('counts in depth only keys ready to run, not those waiting for their delay', () => {
    const q = noDelay();
    q.add('ready');
    q.addAfter('recheck', 60_000);
    q.addRateLimited('retry', 60_000);
    expect(q.depth).toBe(1);
    expect(q.delayed).toBe(2);
    q.shutDown();
  });

  it('adds after a delay, an earlier pending add winning', async () => {
    const q = noDelay();
    q.addAfter('a', 30);
    q.addAfter('a', 10_000);
    expect(q.delayed).toBe(1);
    const started = Date.now();
    expect(await q.get()).toBe('a');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('debounces: adds once calls pause for quietMs, and during a stream at most every maxMs', () => {
    vi.useFakeTimers();
    try {
      const q = noDelay();
      const added: number[] = [];
      const start = Date.now();
      const take = () => {
        while (q.length) {
          void q.get(); // hands it out at once
          q.done('a');
          added.push(Date.now() - start);
        }
      };
      // A change every 100 ms for 2.5 s, then silence.
      for (let t = 0; t < 4000; t += 100) {
        if (t < 2500) q.addDebounced('a', 300, 1000);
        vi.advanceTimersByTime(100);
        take();
      }
      expect(added).toEqual([1000, 2000, 2700]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('adds at once a burst already past its maxMs (a busy event loop fired its timer late)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const realNow = Date.now.bind(Date);
    try {
      const q = noDelay();
      q.addDebounced('a', 300, 1000);
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 5000); // its timer did not run
      q.addDebounced('a', 300, 1000);
      expect(await q.get()).toBe('a');
      await new Promise((r) => setTimeout(r, 10));
      expect(warnings).toEqual([]);
    } finally {
      vi.restoreAllMocks();
      process.off('warning', onWarning);
    }
  });

  it('keeps a sooner pending add (a retry) instead of debouncing it later', async () => {
    const q = noDelay();
    q.addAfter('a', 10);
    q.addDebounced('a', 10_000, 60_000);
    const started = Date.now();
    expect(await q.get()).toBe('a');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('hands undefined to waiting workers on shutdown and drops pending delays', async () => {
    const q = noDelay();
    const waiting = q.get();
    q.addAfter('x', 50);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    expect(q.depth).toBe(0);
    q.add('y');
    expect(await q.get()).toBeUndefined();
  });
});

describe('rate limiters', () => {
  it('backs off exponentially per key from 5 ms to 1000 s, and forgets', () => {
    const b = new ExponentialBackoff<string>();
    expect([b.when('a'), b.when('a'), b.when('a'), b.when('b')]).toEqual([5, 10, 20, 5]);
    for (let i = 0; i < 40; i++) b.when('a');
    expect(b.when('a')).toBe(1_000_000);
    b.forget('a');
    expect(b.when('a')).toBe(5);
  });

  it('limits everyone together with a token bucket (injected clock)', () => {
    let now = 0;
    const bucket = new TokenBucket<string>(10, 2, () => now);
    expect([bucket.when('a'), bucket.when('b')]).toEqual([0, 0]);
    expect(bucket.when('c')).toBe(100);
    now += 1000;
    expect(bucket.when('d')).toBe(0);
  });

  it('takes the larger delay of the two', () => {
    const limiter = new MaxOf<string>(
      new ExponentialBackoff<string>(1000, 10_000),
      new TokenBucket<string>(10, 100),
    );
    expect(limiter.when('a')).toBe(1000);
    expect(defaultRateLimiter<string>().when('x')).toBe(5);
  });
});

describe('Controller', () => {
  it('runs `concurrency` keys at once but never the same key twice at once', async () => {
    let running = 0;
    let peak = 0;
    const perKey = new Map<string, number>();
    let overlap = false;
    const controller = new Controller({
      kind: 'Test',
      concurrency: 3,
      log: silentLogger,
      reconcile: async (key) => {
        running++;
        peak = Math.max(peak, running);
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        if ((perKey.get(key) ?? 0) > 1) overlap = true;
        await new Promise((r) => setTimeout(r, 20));
        perKey.set(key, (perKey.get(key) ?? 1) - 1);
        running--;
        return undefined;
      },
    });
    const abort = new AbortController();
    const done = controller.run(abort.signal);
    for (let i = 0; i < 12; i++) controller.enqueue(`k${i % 6}`);
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 6; i++) controller.enqueue(`k${i}`);
    await new Promise((r) => setTimeout(r, 200));
    abort.abort();
    await done;
    expect(peak).toBe(3);
    expect(overlap).toBe(false);
  });

  it('retries a failing key with backoff and honours requeueAfter; in-flight work finishes on shutdown', async () => {
    const calls: string[] = [];
    let attempts = 0;
    let finished = false;
    const controller = new Controller({
      kind: 'Test',
      concurrency: 1,
      log: silentLogger,
      rateLimiter: new ExponentialBackoff(5, 50),
      reconcile: async (key) => {
        calls.push(key);
        if (key === 'flaky' && ++attempts < 3) throw new Error('transient');
        if (key === 'slow') {
          await new Promise((r) => setTimeout(r, 100));
          finished = true;
        }
        return key === 'later' && calls.filter((c) => c === 'later').length === 1
          ? { requeueAfterMs: 30 }
          : undefined;
      },
    });
    const abort = new AbortController();
    const done = controller.run(abort.signal);
    controller.enqueue('flaky');
    controller.enqueue('later');
    await new Promise((r) => setTimeout(r, 200));
    expect(calls.filter((c) => c === 'flaky')).toHaveLength(3);
    expect(calls.filter((c) => c === 'later')).toHaveLength(2);
    controller.enqueue('slow');
    await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await done;
    expect(finished).toBe(true);
  });
});

describe('Controller cancel', () => {
  it('aborts the signal in-flight reconciles hold, and neither requeues nor logs them as failures', async () => {
    const seen: AbortSignal[] = [];
    const logs: string[] = [];
    const controller = new Controller({
      kind: 'Test',
      concurrency: 2,
      log: createLogger('debug', {}, (line) => logs.push(line)),
      reconcile: (_key, signal) => {
        seen.push(signal);
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error)),
        );
      },
    });
    const stop = new AbortController();
    const cancel = new AbortController();
    const done = controller.run(stop.signal, cancel.signal);
    controller.enqueue('a');
    controller.enqueue('b');
    await new Promise((r) => setTimeout(r, 20));
    expect(controller.busy).toBe(2);
    expect(seen.every((s) => !s.aborted)).toBe(true);
    cancel.abort(new Error('leadership lost'));
    await done;
    expect(seen).toHaveLength(2);
    expect(seen.every((s) => s.aborted)).toBe(true);
    expect(controller.queue.depth).toBe(0);
    expect(logs.join('\n')).not.toMatch(/reconcile failed/);
  });
});

describe('WorkQueue delays', () => {
  it('caps a huge delay instead of overflowing setTimeout into an immediate retry', async () => {
    const q = new WorkQueue<string>(new ExponentialBackoff(0, 0));
    q.addAfter('k', 3_000_000_000); // Retry-After: 3000000 (s) in ms
    let got: string | undefined;
    void q.get().then((k) => (got = k));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toBeUndefined();
    q.shutDown();
  });
});

describe('echoes of our own status writes and backoff', () => {
  it('never runs a failing key before its backoff ends for the echo of its own status write', async () => {
    const runs: number[] = [];
    const started = Date.now();
    const controller = new Controller({
      kind: 'Test',
      concurrency: 1,
      log: silentLogger,
      rateLimiter: new ExponentialBackoff(100, 100),
      reconcile: async (key) => {
        runs.push(Date.now() - started);
        // Each try writes status; its echo comes back while the try runs, or just after.
        controller.enqueueUnlessBackingOff(key);
        await new Promise((r) => setTimeout(r, 5));
        setTimeout(() => controller.enqueueUnlessBackingOff(key), 1);
        throw new Error('ARM refused the write');
      },
    });
    const abort = new AbortController();
    const done = controller.run(abort.signal);
    controller.enqueue('cert');
    await new Promise((r) => setTimeout(r, 350));
    abort.abort();
    await done;
    // Tries at about 0, 105, 210, 315 ms: every 100 ms backoff waited out.
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.length).toBeLessThanOrEqual(4);
    for (let i = 1; i < runs.length; i++)
      expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(95);
  });

  it('runs a failing key at once for a real change (a new generation), backoff or not', async () => {
    let runs = 0;
    const controller = new Controller({
      kind: 'Test',
      concurrency: 1,
      log: silentLogger,
      rateLimiter: new ExponentialBackoff(10_000, 10_000),
      reconcile: () => {
        runs++;
        return Promise.reject(new Error('still failing'));
      },
    });
    const abort = new AbortController();
    const done = controller.run(abort.signal);
    controller.enqueue('cert');
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    controller.enqueueUnlessBackingOff('cert'); // a status-only update: waits 10 s
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(1);
    controller.enqueue('cert'); // the user edited the spec
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toBe(2);
    abort.abort();
    await done;
  });

  it('keeps a backoff that falls after an earlier requeueAfter: the echo still waits', () => {
    const q = noDelay();
    q.addAfter('a', 1_000); // a recheck due first
    q.addRateLimited('a', 5_000); // then the run failed: the earlier timer stays, as a backoff
    q.addUnlessBackingOff('a'); // the echo of the failure's status write
    expect(q.length).toBe(0);
    q.shutDown();
  });

  it('treats an echo as an ordinary add when the key is not backing off', async () => {
    const q = noDelay();
    q.addUnlessBackingOff('a');
    expect(await q.get()).toBe('a');
    q.addUnlessBackingOff('a'); // while it runs: once more after, as any add
    q.done('a');
    expect(q.length).toBe(1);
    q.addAfter('b', 10_000); // a requeueAfter is no backoff
    q.addUnlessBackingOff('b');
    expect(q.length).toBe(2);
    q.shutDown();
  });
});
