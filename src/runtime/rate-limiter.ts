// Retry pacing, as controller-runtime does it: per-key exponential backoff (5 ms .. 1000 s)
// combined with a global token bucket, the larger delay winning.

export interface RateLimiter<K> {
  /** How long to wait before retrying `key`; each call counts one more failure. */
  when(key: K): number;
  forget(key: K): void;
  failures(key: K): number;
}

export class ExponentialBackoff<K> implements RateLimiter<K> {
  private readonly counts = new Map<K, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  when(key: K): number {
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  forget(key: K): void {
    this.counts.delete(key);
  }

  failures(key: K): number {
    return this.counts.get(key) ?? 0;
  }
}

/** A token bucket shared by all keys: `qps` tokens a second, up to `burst` saved. */
export class TokenBucket<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(qps = 10, burst = 100, now: () => number = Date.now) {
    this.qps = qps;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }

  when(_key: K): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(): void {}
  failures(): number {
    return 0;
  }
}

export class MaxOf<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }
  when(key: K): number {
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }
  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }
  failures(key: K): number {
    return Math.max(...this.limiters.map((l) => l.failures(key)));
  }
}

export function defaultRateLimiter<K>(): RateLimiter<K> {
  return new MaxOf<K>(new ExponentialBackoff<K>(5, 1_000_000), new TokenBucket<K>(10, 100));
}
