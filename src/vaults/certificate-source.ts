// Key Vault certificates as a Certificate's source (spec.certificate.keyVault): the seam between
// the certificate controller and the vault, and the polling economy in front of it. A renewal
// is a new version; it is noticed by asking again once the poll interval has passed.
import type { Reason } from '../api/reasons.ts';
import type { VaultConnection } from './verifier.ts';

export interface VaultCertificate {
  /** The certificate version that was read. */
  version: string;
  /** The X.509 certificate (DER), as Key Vault's `cer`. */
  cer: Uint8Array;
  /** The certificate's own key at that version: name and version from its key id's path. */
  key: { name: string; version: string } | undefined;
}

export interface CertificateReadRequest {
  namespace: string;
  vault: VaultConnection;
  name: string;
  /** A pinned version; undefined = the latest enabled version. */
  version?: string | undefined;
}

export type CertificateRead =
  | { ok: true; certificate: VaultCertificate }
  | {
      ok: false;
      reason: Reason;
      message: string;
      /** Not found, refused: asked again at the next poll; others are retried with backoff. */
      terminal: boolean;
      retryAfterMs?: number | undefined;
    };

export interface CertificateReader {
  read(request: CertificateReadRequest): Promise<CertificateRead>;
}

/**
 * One request per vault, identity and certificate name (and version) per interval, whoever
 * asks: Certificates naming the same Key Vault certificate share the answer, and concurrent
 * reads share one request. A transient failure is not kept (the reconcile retries with
 * backoff); an answer, or a terminal failure, is kept for the interval.
 */
export class PollingCertificateReader implements CertificateReader {
  private readonly inner: CertificateReader;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly answers = new Map<string, { read: CertificateRead; at: number }>();
  private readonly inFlight = new Map<string, Promise<CertificateRead>>();
  private lastSweep: number;

  constructor(inner: CertificateReader, intervalMs: number, now: () => number = Date.now) {
    this.inner = inner;
    this.intervalMs = intervalMs;
    this.now = now;
    this.lastSweep = now();
  }

  static key({ namespace, vault, name, version }: CertificateReadRequest): string {
    return JSON.stringify([
      namespace,
      vault.kind,
      vault.vaultUrl,
      vault.azureAuth ?? null,
      name,
      version ?? '',
    ]);
  }

  read(request: CertificateReadRequest): Promise<CertificateRead> {
    this.sweep();
    const id = PollingCertificateReader.key(request);
    const kept = this.answers.get(id);
    if (kept && this.now() - kept.at < this.intervalMs) return Promise.resolve(kept.read);
    const pending = this.inFlight.get(id);
    if (pending) return pending;
    const started = this.now();
    const reading = this.inner
      .read(request)
      .then((read) => {
        if (read.ok || read.terminal) this.answers.set(id, { read, at: started });
        else this.answers.delete(id);
        return read;
      })
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, reading);
    return reading;
  }

  /** Answers nobody asked for in two intervals are dropped (the Certificate is gone). */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < 2 * this.intervalMs) return;
    this.lastSweep = now;
    for (const [id, kept] of this.answers)
      if (now - kept.at >= 2 * this.intervalMs) this.answers.delete(id);
  }

  get size(): number {
    return this.answers.size;
  }
}

/** The key name and version from a key id's path (`/keys/<name>/<version>`), never its host. */
export function keyOfKeyId(kid: string | undefined): VaultCertificate['key'] {
  if (!kid) return undefined;
  let path: string;
  try {
    path = new URL(kid).pathname;
  } catch {
    return undefined;
  }
  const m = /^\/keys\/([^/]+)\/([^/]+)\/?$/.exec(path);
  return m ? { name: decodeURIComponent(m[1]!), version: decodeURIComponent(m[2]!) } : undefined;
}
