// One controller: a work queue of keys and `concurrency` workers calling a reconcile function.
// Errors requeue with per-key backoff; requeueAfter comes back later; success forgets.
import type { Metrics } from '../operator/metrics.ts';
import { errorMessage, type Logger } from '../operator/log.ts';
import { defaultRateLimiter, type RateLimiter } from './rate-limiter.ts';
import { WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  /** Come back after this long (expiry moments, rechecks); failures are forgotten. */
  requeueAfterMs?: number | undefined;
}

export type ReconcileFn = (key: string) => Promise<ReconcileResult | undefined>;

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

  enqueue(key: string): void {
    this.queue.add(key);
    this.options.metrics?.workqueueDepth.set({ kind: this.kind }, this.queue.depth);
  }

  enqueueAfter(key: string, delayMs: number): void {
    this.queue.addAfter(key, delayMs); // the queue caps long waits
  }

  /** Runs workers until `signal` aborts, then lets in-flight reconciles finish. */
  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    const workers = Array.from({ length: this.options.concurrency }, () => this.worker());
    await Promise.all(workers);
  }

  get busy(): number {
    return this.inFlight;
  }

  private async worker(): Promise<void> {
    const { kind, reconcile, log, metrics } = this.options;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.inFlight++;
      const started = performance.now();
      let result = 'success';
      try {
        const outcome = await reconcile(key);
        this.queue.forget(key);
        if (outcome?.requeueAfterMs !== undefined) {
          result = 'requeue';
          this.enqueueAfter(key, Math.max(outcome.requeueAfterMs, 0));
        }
      } catch (err) {
        result = 'error';
        const failures = this.queue.failures(key);
        const fields = { kind, key, error: errorMessage(err), failures: failures + 1 };
        // Early retries are normal (conflicts, a cache a moment behind); persistent ones are not.
        if (failures > 5) log.warn('reconcile failed; retrying with backoff', fields);
        else log.info('reconcile failed; retrying with backoff', fields);
        const backoff = this.queue.backoff(key);
        const retryAfterMs = (err as { retryAfterMs?: unknown }).retryAfterMs;
        this.queue.addAfter(
          key,
          typeof retryAfterMs === 'number' ? Math.max(backoff, retryAfterMs) : backoff,
        );
      } finally {
        this.inFlight--;
        this.queue.done(key);
        metrics?.reconcileTotal.inc({ kind, result });
        metrics?.reconcileDuration.observe({ kind }, (performance.now() - started) / 1000);
        metrics?.workqueueDepth.set({ kind }, this.queue.depth);
      }
    }
  }
}
