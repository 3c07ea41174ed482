// Economy for vault checks: a verdict is reused per (vault, key, version, certificate) for
// --recheck-interval, and concurrent checks of the same key share one probe. Transient
// failures are not cached: they are retried with the reconcile's backoff.
import type { KeyVerdict, KeyVerificationRequest, KeyVerifier } from './verifier.ts';

export class CachingVerifier implements KeyVerifier {
  private readonly inner: KeyVerifier;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { verdict: KeyVerdict; at: number }>();
  private readonly inFlight = new Map<string, Promise<KeyVerdict>>();

  constructor(inner: KeyVerifier, ttlMs: number, now: () => number = Date.now) {
    this.inner = inner;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  static key({ vault, key, certificate }: KeyVerificationRequest): string {
    return JSON.stringify([
      vault.kind,
      vault.vaultUrl,
      key.name,
      key.version ?? '',
      certificate.sha256Fingerprint,
    ]);
  }

  verify(request: KeyVerificationRequest): Promise<KeyVerdict> {
    const id = CachingVerifier.key(request);
    const cached = this.cache.get(id);
    if (cached && this.now() - cached.at < this.ttlMs) return Promise.resolve(cached.verdict);
    const running = this.inFlight.get(id);
    if (running) return running;
    const probe = this.inner
      .verify(request)
      .then((verdict) => {
        if (verdict.ok || verdict.terminal) this.cache.set(id, { verdict, at: this.now() });
        else this.cache.delete(id);
        return verdict;
      })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, probe);
    return probe;
  }
}
