// A work queue of keys with client-go's guarantees: a key waiting is queued once (dirty set);
// a key is never handed to two workers at once (processing set); a key added while it is
// being processed runs once more afterwards; delayed adds for backoff and requeueAfter.
// Two lanes, as controller-runtime's priority queue: what a user changed goes before background
// work (the fan-out of a Secret that 1,000 certificates share, rechecks), so a new certificate
// does not wait behind a full pass over everything else. Not strict priority: retries go to the
// urgent lane, and under slow reconciles (vault timeouts, 429s) they would starve background work
// (a renewed source Secret) for minutes; background gets every BACKGROUND_SHARE-th pick.
// A key waiting out its backoff is not run early by an add that brings nothing new (the watch
// echo of our own status write): addUnlessBackingOff, as controller-runtime's
// GenerationChangedPredicate keeps status-only updates from cutting AddRateLimited short.
import type { RateLimiter } from './rate-limiter.ts';

export type Lane = 'urgent' | 'background';

export const MAX_DELAY_MS = 12 * 3_600_000;

/** When both lanes have work, at least one pick in this many is background work. */
export const BACKGROUND_SHARE = 4;

export class WorkQueue<K> {
  private readonly lanes: Record<Lane, K[]> = { urgent: [], background: [] };
  /** Keys waiting, with the lane of their add. */
  private readonly dirty = new Map<K, Lane>();
  /** Dirty keys whose only adds since were addUnlessBackingOff: a backoff set meanwhile wins. */
  private readonly passive = new Set<K>();
  private readonly processing = new Set<K>();
  /** Delayed adds; `backoff`: a failure's retry (addRateLimited), not a requeueAfter. */
  private readonly timers = new Map<K, { at: number; timer: NodeJS.Timeout; backoff: boolean }>();
  /** Keys being debounced: when the first of the burst came. */
  private readonly bursts = new Map<K, number>();
  private waiters: ((key: K | undefined) => void)[] = [];
  /** Urgent picks in a row while background work waited. */
  private urgentStreak = 0;
  private shuttingDown = false;

  private readonly rateLimiter: RateLimiter<K>;

  constructor(rateLimiter: RateLimiter<K>) {
    this.rateLimiter = rateLimiter;
  }

  get length(): number {
    return this.lanes.urgent.length + this.lanes.background.length;
  }

  /**
   * Keys ready to run, waiting for a worker (the workqueue depth metric). Keys waiting out a
   * delay (requeueAfter rechecks, backoff) are not work yet: they are `delayed`.
   */
  get depth(): number {
    return this.length;
  }

  /** Keys waiting for a delay to pass: requeueAfter rechecks, retries' backoff, debounces. */
  get delayed(): number {
    return this.timers.size;
  }

  add(key: K, lane: Lane = 'urgent'): void {
    if (this.shuttingDown) return;
    this.passive.delete(key);
    const waiting = this.dirty.get(key);
    if (waiting !== undefined) {
      if (waiting === 'background' && lane === 'urgent') this.promote(key);
      return;
    }
    this.dirty.set(key, lane);
    if (this.processing.has(key)) return; // done() re-queues it
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.lanes[lane].push(key);
    }
  }

  /** A waiting background key moves to the end of the urgent lane. */
  private promote(key: K): void {
    this.dirty.set(key, 'urgent');
    if (this.processing.has(key)) return;
    const at = this.lanes.background.indexOf(key);
    if (at >= 0) this.lanes.background.splice(at, 1);
    this.lanes.urgent.push(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending add of the same key wins. */
  addAfter(key: K, requestedMs: number, lane: Lane = 'background'): void {
    this.delay(key, requestedMs, lane, false);
  }

  /** A failed key's retry after its backoff: addUnlessBackingOff leaves it waiting. */
  addRateLimited(key: K, delayMs: number, lane: Lane = 'urgent'): void {
    this.delay(key, delayMs, lane, true);
  }

  /**
   * An add that brings nothing the key's last run did not see (the echo of our own status
   * write): while the key waits out a backoff it waits on; else it is an ordinary add.
   */
  addUnlessBackingOff(key: K, lane: Lane = 'background'): void {
    if (this.shuttingDown || this.backingOff(key)) return;
    // While it runs: the run may yet fail, and its backoff then wins (see done()).
    const passive = this.processing.has(key) && (!this.dirty.has(key) || this.passive.has(key));
    this.add(key, lane);
    if (passive) this.passive.add(key);
  }

  private backingOff(key: K): boolean {
    return this.timers.get(key)?.backoff === true;
  }

  private delay(key: K, requestedMs: number, lane: Lane, backoff: boolean): void {
    if (this.shuttingDown) return;
    // setTimeout turns anything over ~24.8 days into 1 ms; long waits are re-evaluated sooner.
    const delayMs = Math.min(requestedMs, MAX_DELAY_MS);
    if (delayMs <= 0) return this.add(key, lane);
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) {
      // The earlier add stays, and now it is a retry: an echo must not run the key before it.
      pending.backoff ||= backoff;
      return;
    }
    if (pending) clearTimeout(pending.timer);
    this.bursts.delete(key); // a sooner add ends the burst's wait
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key, lane);
    }, delayMs);
    this.timers.set(key, { at, timer, backoff });
  }

  /**
   * Adds `key` once no call for it came for `quietMs`, yet at most `maxMs` after the burst's
   * first call: a stream of changes costs one add per `maxMs`, and the last one lands
   * `quietMs` after it. An add already due sooner (a retry) is kept: it sees the same changes.
   */
  addDebounced(key: K, quietMs: number, maxMs: number): void {
    if (this.shuttingDown) return;
    const now = Date.now();
    const pending = this.timers.get(key);
    const first = this.bursts.get(key);
    if (pending && first === undefined && pending.at <= now + quietMs) return;
    const burst = first ?? now;
    const at = Math.min(now + quietMs, burst + maxMs);
    if (pending) clearTimeout(pending.timer);
    this.bursts.set(key, burst);
    // Past due already when the event loop was too busy to fire the burst's timer in time.
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.bursts.delete(key);
        this.add(key);
      },
      Math.max(0, at - now),
    );
    this.timers.set(key, { at, timer, backoff: false });
  }

  /** The next backoff delay for `key` (counts one more failure). */
  backoff(key: K): number {
    return this.rateLimiter.when(key);
  }

  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  failures(key: K): number {
    return this.rateLimiter.failures(key);
  }

  /** The next key, or undefined once the queue is shut down. */
  get(): Promise<K | undefined> {
    const key = this.next();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private next(): K | undefined {
    const { urgent, background } = this.lanes;
    if (!background.length) return urgent.shift();
    if (urgent.length && this.urgentStreak < BACKGROUND_SHARE - 1) {
      this.urgentStreak++;
      return urgent.shift();
    }
    this.urgentStreak = 0;
    return background.shift();
  }

  done(key: K): void {
    this.processing.delete(key);
    const lane = this.dirty.get(key);
    const passive = this.passive.delete(key);
    if (lane === undefined) return;
    this.dirty.delete(key);
    // Only echoes came while it ran, and the run failed: the backoff decides when it runs.
    if (passive && this.backingOff(key)) return;
    this.add(key, lane);
  }

  /** Stops handing out keys; workers see undefined. Pending delays are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.bursts.clear();
    this.lanes.urgent.length = 0;
    this.lanes.background.length = 0;
    this.dirty.clear();
    this.passive.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }
}
