// One controller: a work queue of keys and `concurrency` workers calling a reconcile function.
// Errors requeue with per-key backoff; requeueAfter comes back later; success forgets.
import type { Metrics } from '../operator/metrics.ts';
import { errorMessage, type Logger } from '../operator/log.ts';
import { defaultRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { WorkQueue, type Lane } from './workqueue.ts';

export interface ReconcileResult {
  /** Come back after this long (expiry moments, rechecks); failures are forgotten. */
  requeueAfterMs?: number | undefined;
}

/** `signal` aborts when the work must stop half-way (leadership lost, drain deadline passed). */
export type ReconcileFn = (
  key: string,
  signal: AbortSignal,
) => Promise<ReconcileResult | undefined>;

export interface ControllerOptions {
  kind: string;
  reconcile: ReconcileFn;
  concurrency: number;
  log: Logger;
  metrics?: Metrics;
  rateLimiter?: RateLimiter<string>;
}

export class Controller {
  readonly queue: WorkQueue<string>;
  private inFlight = 0;

  private readonly options: ControllerOptions;

  constructor(options: ControllerOptions) {
    this.options = options;
    this.queue = new WorkQueue(options.rateLimiter ?? defaultRateLimiter<string>());
  }

  get kind(): string {
    return this.options.kind;
  }

  /** `background`: not a change of the object itself (a shared source changed, a recheck). */
  enqueue(key: string, lane: Lane = 'urgent'): void {
    this.queue.add(key, lane);
  }

  /**
   * A change that brings nothing new to the key's last run (a status-only update: the echo of
   * our own status write): it does not cut short a backoff the key is waiting out.
   */
  enqueueUnlessBackingOff(key: string, lane: Lane = 'background'): void {
    this.queue.addUnlessBackingOff(key, lane);
  }

  enqueueAfter(key: string, delayMs: number): void {
    this.queue.addAfter(key, delayMs); // the queue caps long waits
  }

  /** Once changes of `key` pause for `quietMs`, at most every `maxMs` (see WorkQueue). */
  enqueueDebounced(key: string, quietMs: number, maxMs: number): void {
    this.queue.addDebounced(key, quietMs, maxMs);
  }

  /**
   * Runs workers until `stop` aborts, then lets in-flight reconciles finish (drain); `cancel`
   * aborting ends in-flight reconciles too (it implies stop).
   */
  async run(stop: AbortSignal, cancel: AbortSignal = new AbortController().signal): Promise<void> {
    // From the start of the workers only: a standby reports no queue (B2BOperatorNoLeader).
    const queue = this.queue;
    this.options.metrics?.trackQueue(this.kind, () => ({
      depth: queue.depth,
      delayed: queue.delayed,
    }));
    const shutDown = () => this.queue.shutDown();
    for (const s of [stop, cancel]) {
      if (s.aborted) shutDown();
      else s.addEventListener('abort', shutDown, { once: true });
    }
    const workers = Array.from({ length: this.options.concurrency }, () => this.worker(cancel));
    await Promise.all(workers);
  }

  get busy(): number {
    return this.inFlight;
  }

  private async worker(cancel: AbortSignal): Promise<void> {
    const { kind, reconcile, log, metrics } = this.options;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.inFlight++;
      const started = performance.now();
      let result = 'success';
      try {
        const outcome = await reconcile(key, cancel);
        this.queue.forget(key);
        if (outcome?.requeueAfterMs !== undefined) {
          result = 'requeue';
          this.enqueueAfter(key, Math.max(outcome.requeueAfterMs, 0));
        }
      } catch (err) {
        result = cancel.aborted ? 'cancelled' : 'error';
        if (cancel.aborted) continue; // stopped on purpose; the next run picks it up
        const failures = this.queue.failures(key);
        const fields = { kind, key, error: errorMessage(err), failures: failures + 1 };
        // Early retries are normal (conflicts, a cache a moment behind); persistent ones are not.
        if (failures > 5) log.warn('reconcile failed; retrying with backoff', fields);
        else log.info('reconcile failed; retrying with backoff', fields);
        const backoff = this.queue.backoff(key);
        const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
        // Retries keep their place ahead of background work: backoff already limits them.
        this.queue.addRateLimited(
          key,
          typeof retryAfterMs === 'number' ? Math.max(backoff, retryAfterMs) : backoff,
          'urgent',
        );
      } finally {
        this.inFlight--;
        this.queue.done(key);
        const ms = Math.round(performance.now() - started);
        log.debug('reconciled', { kind, key, result, ms });
        metrics?.reconcileTotal.inc({ kind, result });
        metrics?.reconcileDuration.observe({ kind }, (performance.now() - started) / 1000);
      }
    }
  }
}
