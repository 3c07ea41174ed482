// The kubernetes vault: a Private certificate's key in a Secret of the account's namespace
// (key tls.key, PEM; e.g. a cert-manager TLS Secret). The probes are the Azure ones done
// locally: the key must be the certificate's, sign what the certificate's public key
// verifies, and decrypt what it encrypted. The key is read to probe and dropped: never
// cached, copied, logged or written anywhere.
import {
  constants,
  createHash,
  createPublicKey,
  createPrivateKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { Reason } from '../api/reasons.ts';
import { keyMatchesCertificate } from '../certificates/key-match.ts';
import { KubeApiError, SecretType, resourcePath, type KubeClient } from '../kube/client.ts';
import {
  vaultFailure,
  type KeyVerdict,
  type KeyVerificationRequest,
  type KeyVerifier,
} from './verifier.ts';

interface Secret {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

const fail = vaultFailure;

/** Signs a random SHA-256 digest (RS256) and decrypts RSA-OAEP, both checked with the certificate's key. */
export function probeKey(
  privateKey: KeyObject,
  certificateKey: KeyObject,
): { sign: boolean; decrypt: boolean } {
  const data = randomBytes(32);
  let signOk = false;
  let decryptOk = false;
  try {
    signOk = verify('sha256', data, certificateKey, sign('sha256', data, privateKey));
  } catch {
    signOk = false;
  }
  try {
    const secret = randomBytes(32);
    const ciphertext = publicEncrypt(
      { key: certificateKey, padding: constants.RSA_PKCS1_OAEP_PADDING },
      secret,
    );
    decryptOk = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING },
      ciphertext,
    ).equals(secret);
  } catch {
    decryptOk = false;
  }
  return { sign: signOk, decrypt: decryptOk };
}

/** The resourceVersion of a Secret, from the metadata cache; undefined when there is none. */
export type SecretVersionLookup = (namespace: string, name: string) => string | undefined;

/**
 * Reads the key Secret only when its resourceVersion moved or the recheck interval passed: the
 * verdict (never the key) is kept per certificate and key, with the resourceVersion it was
 * made from and when. A cached failure is not reused for a certificate whose spec just changed
 * (the user acted on it); verdicts nobody asked for within the interval are dropped.
 */
export class KubernetesKeyVerifier implements KeyVerifier {
  private readonly client: KubeClient;
  private readonly secretVersion: SecretVersionLookup;
  private readonly now: () => Date;
  private readonly recheckIntervalMs: number;
  private readonly verdicts = new Map<
    string,
    { resourceVersion: string; verdict: KeyVerdict; checkedAt: number; usedAt: number }
  >();
  private lastSweep: number;

  constructor(
    client: KubeClient,
    secretVersion: SecretVersionLookup,
    now: () => Date = () => new Date(),
    recheckIntervalMs = 3_600_000,
  ) {
    this.client = client;
    this.secretVersion = secretVersion;
    this.now = now;
    this.recheckIntervalMs = recheckIntervalMs;
    this.lastSweep = now().getTime();
  }

  /** How many verdicts are kept. */
  get size(): number {
    return this.verdicts.size;
  }

  async verify(request: KeyVerificationRequest): Promise<KeyVerdict> {
    const { namespace, key, certificate } = request;
    const now = this.now().getTime();
    this.sweep(now);
    const id = JSON.stringify([
      namespace,
      request.vault.name,
      key.name,
      key.version ?? '',
      certificate.sha256Fingerprint,
    ]);
    const resourceVersion = this.secretVersion(namespace, key.name);
    if (resourceVersion === undefined) {
      // The metadata cache knows every Secret; one added later re-queues the certificate.
      this.verdicts.delete(id);
      return fail(Reason.KeyNotFound, `${describe(request)} not found`);
    }
    const known = this.verdicts.get(id);
    const reusable =
      known?.resourceVersion === resourceVersion &&
      now - known.checkedAt < this.recheckIntervalMs &&
      (known.verdict.ok || !request.specChanged);
    if (known && reusable) {
      known.usedAt = now;
      return known.verdict;
    }
    const read = await this.readAndProbe(request);
    const checkedAt = this.now();
    const verdict = read.verdict.ok ? read.verdict : { ...read.verdict, checkedAt };
    if (verdict.ok || verdict.terminal)
      this.verdicts.set(id, {
        resourceVersion: read.resourceVersion ?? resourceVersion,
        verdict,
        checkedAt: checkedAt.getTime(),
        usedAt: checkedAt.getTime(),
      });
    else this.verdicts.delete(id);
    return verdict;
  }

  /** Every certificate asks at least once an interval: an entry idle for longer is stale anyway. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.recheckIntervalMs) return;
    this.lastSweep = now;
    for (const [id, entry] of this.verdicts)
      if (now - entry.usedAt >= this.recheckIntervalMs) this.verdicts.delete(id);
  }

  private async readAndProbe(
    request: KeyVerificationRequest,
  ): Promise<{ verdict: KeyVerdict; resourceVersion?: string | undefined }> {
    const { namespace, key } = request;
    const where = describe(request);
    let secret: Secret;
    try {
      secret = await this.client.get<Secret>(
        resourcePath(SecretType, { namespace, name: key.name }),
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404)
        return { verdict: fail(Reason.KeyNotFound, `${where} not found`) };
      if (err instanceof KubeApiError && err.status === 403) {
        const message = `the operator may not read ${where}: grant get on Secrets to its ServiceAccount (Forbidden)`;
        return { verdict: fail(Reason.AccessDenied, message) };
      }
      const message = `reading ${where} failed: ${err instanceof Error ? err.message : String(err)}`;
      return { verdict: fail(Reason.VaultUnavailable, message, false) };
    }
    return {
      verdict: this.judgeKey(request, secret.data?.['tls.key']),
      resourceVersion: secret.metadata?.resourceVersion,
    };
  }

  /** The key is decoded here, probed, and dropped with this call. */
  private judgeKey(request: KeyVerificationRequest, encoded: string | undefined): KeyVerdict {
    const { vault, key, certificate } = request;
    const where = describe(request);
    if (!encoded) return fail(Reason.KeyNotFound, `${where} has no tls.key`);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(Buffer.from(encoded, 'base64'));
    } catch {
      return fail(
        Reason.KeyNotFound,
        `tls.key of ${where} is not a PEM private key the operator can read (an encrypted key is not supported)`,
      );
    }
    // The key's version is its public key's fingerprint: stable across edits of the Secret's
    // labels, new when the key is rotated, and it reveals nothing of the private key.
    const version = createHash('sha256')
      .update(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 32);
    if (key.version && key.version !== version) {
      return fail(
        Reason.KeyNotFound,
        `${where} holds key version ${version}, not the pinned version ${key.version}`,
      );
    }
    const match = keyMatchesCertificate(certificate.publicKeyObject, {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    });
    if (!match.match)
      return fail(
        Reason.KeyMismatch,
        `tls.key of ${where} does not belong to the certificate: ${match.detail}`,
      );
    const probes = probeKey(privateKey, certificate.publicKeyObject);
    const denied = [...(probes.decrypt ? [] : ['decrypt']), ...(probes.sign ? [] : ['sign'])];
    if (denied.length)
      return fail(Reason.AccessDenied, `the key in ${where} could not ${denied.join(' or ')}`);
    return {
      ok: true,
      vaultUrl: vault.vaultUrl,
      name: key.name,
      version,
      grants: ['list', 'get', 'decrypt', 'sign'],
      verifiedAt: this.now(),
    };
  }
}

function describe({ namespace, vault, key }: KeyVerificationRequest): string {
  return `Secret ${key.name} in namespace ${namespace} (kubernetes vault ${vault.name})`;
}
