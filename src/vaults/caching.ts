// Economy for vault checks: a verdict is reused for --recheck-interval, and concurrent checks of
// the same key share one probe. The verdict belongs to who asked and what was checked: the
// namespace, the identity (the vault's auth), the vault, the key and version, and the
// certificate's public key (the only part of the certificate a probe uses, so certificates
// sharing a key share its probe). Transient failures are not cached: they are retried with
// the reconcile's backoff. A cached failure is not reused for a certificate whose spec just
// changed (the user acted on it). A vault that said Retry-After (429, 503) is not asked again
// by the same namespace and identity, for any key, before then (the status write of the
// failure itself enqueues the certificate again at once); a fresh cached verdict is still
// answered, and other keys are told only that the vault is throttled, never the key's name.
// Entries nobody asked for within the interval are dropped.
import { createHash } from 'node:crypto';
import { Reason } from '../api/reasons.ts';
import type { KeyVerdict, KeyVerificationRequest, KeyVerifier } from './verifier.ts';

type Failure = Extract<KeyVerdict, { ok: false }>;
interface Hold {
  until: number;
  /** The verdict the vault gave, for the key (cache id) it was given about. */
  id: string;
  verdict: Failure;
}

export class CachingVerifier implements KeyVerifier {
  private readonly inner: KeyVerifier;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { verdict: KeyVerdict; at: number }>();
  private readonly inFlight = new Map<string, Promise<KeyVerdict>>();
  /** Per namespace, identity and vault: until when the vault's Retry-After holds, and for whom. */
  private readonly holds = new Map<string, Hold>();
  private lastSweep: number;

  constructor(inner: KeyVerifier, ttlMs: number, now: () => number = Date.now) {
    this.inner = inner;
    this.ttlMs = ttlMs;
    this.now = now;
    this.lastSweep = now();
  }

  static key({ namespace, vault, key, certificate }: KeyVerificationRequest): string {
    const publicKey = createHash('sha256')
      .update(certificate.publicKeyObject.export({ type: 'spki', format: 'der' }))
      .digest('hex');
    return JSON.stringify([
      namespace,
      vault.kind,
      vault.vaultUrl,
      vault.azureAuth ?? null,
      key.name,
      key.version ?? '',
      publicKey,
    ]);
  }

  /** Another tenant's throttling is theirs: the hold is per namespace and identity too. */
  static vaultKey({ namespace, vault }: KeyVerificationRequest): string {
    return JSON.stringify([namespace, vault.kind, vault.vaultUrl, vault.azureAuth ?? null]);
  }

  verify(request: KeyVerificationRequest): Promise<KeyVerdict> {
    this.sweep();
    const id = CachingVerifier.key(request);
    const cached = this.cache.get(id);
    const reusable = cached && (cached.verdict.ok || !request.specChanged);
    if (cached && reusable && this.now() - cached.at < this.ttlMs)
      return Promise.resolve(cached.verdict);
    const running = this.inFlight.get(id);
    if (running) return running;
    const vaultId = CachingVerifier.vaultKey(request);
    const hold = this.holds.get(vaultId);
    if (hold && this.now() < hold.until)
      return Promise.resolve(heldVerdict(hold, id, request, hold.until - this.now()));
    const probe = this.inner
      .verify(request)
      .then((verdict) => {
        // An AccessGranted is as old as its verifiedAt (taken before the probe's round trips): the
        // reconciler rechecks at verifiedAt + interval, and must then find the entry expired.
        const at = verdict.ok ? Math.min(this.now(), verdict.verifiedAt.getTime()) : this.now();
        if (verdict.ok || verdict.terminal) {
          const stamped = verdict.ok ? verdict : { ...verdict, checkedAt: new Date(at) };
          this.cache.set(id, { verdict: stamped, at });
          return stamped;
        }
        this.cache.delete(id);
        if (verdict.retryAfterMs)
          this.holds.set(vaultId, { until: at + verdict.retryAfterMs, id, verdict });
        return verdict;
      })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, probe);
    return probe;
  }

  /** Once per interval: verdicts older than the interval would be probed again anyway. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < this.ttlMs) return;
    this.lastSweep = now;
    for (const [id, entry] of this.cache) if (now - entry.at >= this.ttlMs) this.cache.delete(id);
    for (const [id, hold] of this.holds) if (now >= hold.until) this.holds.delete(id);
  }

  get size(): number {
    return this.cache.size;
  }
}

/** The throttled key keeps its own message (no status flip); others learn only the vault's wait. */
function heldVerdict(
  hold: Hold,
  id: string,
  { vault }: KeyVerificationRequest,
  retryAfterMs: number,
): KeyVerdict {
  if (hold.id === id) return { ...hold.verdict, retryAfterMs };
  return {
    ok: false,
    reason: Reason.VaultUnavailable,
    message: `vault ${vault.vaultUrl} throttled until ${new Date(hold.until).toISOString()} (Retry-After)`,
    terminal: false,
    retryAfterMs,
  };
}
