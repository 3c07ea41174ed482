// The grant probes of API.md, against any implementation of the four Key Vault operations:
// get = read the key; list = list its versions; sign = the vault signs a random SHA-256
// digest (RS256) and the signature verifies with the certificate's key; decrypt = bytes
// encrypted locally with the certificate's key (RSA-OAEP) come back from the vault.
import { constants, publicDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { Reason } from '../../api/reasons.ts';
import { keyMatchesCertificate, type VaultJsonWebKey } from '../../certificates/key-match.ts';
import { vaultFailure, type KeyVerdict } from '../verifier.ts';
import { classifyVaultError, type VaultErrorClass } from './errors.ts';

export interface VaultKey {
  /** The key's identifier URL, with its version. */
  id: string;
  version: string;
  enabled: boolean;
  notBefore?: Date | undefined;
  expiresOn?: Date | undefined;
  jwk: VaultJsonWebKey;
}

/** The four operations, each one request to the vault. */
export interface KeyOperations {
  getKey(name: string, version: string | undefined): Promise<VaultKey>;
  listVersions(name: string): Promise<void>;
  sign(keyId: string, digest: Uint8Array): Promise<Uint8Array>;
  decrypt(keyId: string, ciphertext: Uint8Array): Promise<Uint8Array>;
}

export type Operation = 'list' | 'get' | 'decrypt' | 'sign';

export interface ProbeInput {
  vaultUrl: string;
  name: string;
  version: string | undefined;
  certificateKey: KeyObject;
  now: Date;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: VaultErrorClass };

async function attempt<T>(run: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    return { ok: false, error: classifyVaultError(err) };
  }
}

const fail = vaultFailure;

export function accessDeniedMessage(
  name: string,
  vaultUrl: string,
  denied: Map<Operation, string>,
): string {
  const codes = [...new Set(denied.values())].join(', ');
  return `grant 'list', 'get', 'decrypt' and 'sign' on key ${name} in ${vaultUrl} to the operator's identity; denied: ${[...denied.keys()].join(', ')} (${codes})`;
}

export async function probeAzureKey(ops: KeyOperations, input: ProbeInput): Promise<KeyVerdict> {
  const { vaultUrl, name, version, certificateKey, now } = input;
  const keyUrl = `${vaultUrl.replace(/\/$/, '')}/keys/${name}${version ? `/${version}` : ''}`;
  const got = await attempt(() => ops.getKey(name, version));
  if (!got.ok && got.error.reason === Reason.KeyNotFound) {
    return fail(
      Reason.KeyNotFound,
      `key ${name}${version ? ` version ${version}` : ''} not found in ${vaultUrl} (${got.error.code})`,
    );
  }
  if (!got.ok && got.error.reason !== Reason.AccessDenied)
    return fail(
      got.error.reason,
      `${vaultUrl}: ${got.error.detail}`,
      false,
      got.error.retryAfterMs,
    );
  if (got.ok) {
    const key = got.value;
    if (!key.enabled)
      return fail(
        Reason.KeyDisabled,
        `key ${name} version ${key.version} in ${vaultUrl} is disabled; enable it`,
      );
    if (key.notBefore && now < key.notBefore) {
      return fail(
        Reason.KeyExpired,
        `key ${name} version ${key.version} in ${vaultUrl} is not valid before ${key.notBefore.toISOString()}`,
      );
    }
    if (key.expiresOn && now >= key.expiresOn) {
      return fail(
        Reason.KeyExpired,
        `key ${name} version ${key.version} in ${vaultUrl} expired at ${key.expiresOn.toISOString()}`,
      );
    }
    const match = keyMatchesCertificate(certificateKey, { jwk: key.jwk });
    if (!match.match)
      return fail(
        Reason.KeyMismatch,
        `key ${name} version ${key.version} in ${vaultUrl} is not the certificate's key: ${match.detail}`,
      );
  }
  const keyId = got.ok ? got.value.id : keyUrl;
  const digest = randomBytes(32);
  const secret = randomBytes(32);
  const ciphertext = publicEncrypt(
    { key: certificateKey, padding: constants.RSA_PKCS1_OAEP_PADDING },
    secret,
  );
  const [listed, signed, decrypted] = await Promise.all([
    attempt(() => ops.listVersions(name)),
    attempt(() => ops.sign(keyId, digest)),
    attempt(() => ops.decrypt(keyId, ciphertext)),
  ]);
  const outcomes: [Operation, Outcome<unknown>][] = [
    ['list', listed],
    ['get', got],
    ['decrypt', decrypted],
    ['sign', signed],
  ];
  const denied = new Map<Operation, string>();
  for (const [op, outcome] of outcomes)
    if (!outcome.ok && outcome.error.reason === Reason.AccessDenied)
      denied.set(op, outcome.error.code);
  if (denied.size) return fail(Reason.AccessDenied, accessDeniedMessage(name, vaultUrl, denied));
  for (const [op, outcome] of outcomes) {
    // Key Vault answers 400 when its key cannot decrypt what the certificate's key encrypted.
    if (
      !outcome.ok &&
      (op === 'decrypt' || op === 'sign') &&
      outcome.error.detail.startsWith('400')
    ) {
      return fail(
        Reason.KeyMismatch,
        `key ${name} in ${vaultUrl} could not ${op} with the certificate's key material (${outcome.error.code})`,
      );
    }
    if (!outcome.ok) {
      const { reason, detail, terminal, retryAfterMs } = outcome.error;
      return fail(
        reason,
        `${op} on key ${name} in ${vaultUrl} failed: ${detail}`,
        terminal,
        retryAfterMs,
      );
    }
  }
  if (!got.ok) return fail(Reason.VaultUnavailable, 'unreachable', false); // narrowed above; keeps the types honest
  const signature = signed.ok ? signed.value : new Uint8Array();
  if (!signatureVerifies(certificateKey, digest, signature)) {
    return fail(
      Reason.KeyMismatch,
      `the signature made by key ${name} in ${vaultUrl} does not verify with the certificate's public key`,
    );
  }
  if (!decrypted.ok || !Buffer.from(decrypted.value).equals(secret)) {
    return fail(
      Reason.KeyMismatch,
      `key ${name} in ${vaultUrl} did not decrypt what the certificate's public key encrypted`,
    );
  }
  return {
    ok: true,
    vaultUrl,
    name,
    version: got.value.version,
    grants: ['list', 'get', 'decrypt', 'sign'],
    verifiedAt: now,
  };
}

/** PKCS#1 v1.5 DigestInfo for SHA-256: what an RS256 signature over a digest signs. */
export function sha256DigestInfo(digest: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), digest]);
}

/** RS256 over a precomputed digest: recover the signed DigestInfo and compare. */
function signatureVerifies(
  certificateKey: KeyObject,
  digest: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    const recovered = publicDecrypt(
      { key: certificateKey, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
    return recovered.equals(sha256DigestInfo(digest));
  } catch {
    return false;
  }
}
