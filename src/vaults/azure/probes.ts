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
  /** The key's identifier URL, with its version. Informational: requests never go to it. */
  id: string;
  version: string;
  enabled: boolean;
  notBefore?: Date | undefined;
  expiresOn?: Date | undefined;
  updatedOn?: Date | undefined;
  jwk: VaultJsonWebKey;
  /** The operations the key permits (key_ops); absent when the vault did not say. */
  keyOps?: string[] | undefined;
}

/** A key of the configured vault: name, and version and last update when `get` told them. */
export interface KeyRef {
  name: string;
  version?: string | undefined;
  updatedOn?: Date | undefined;
}

/** The four operations, each one request to the vault. */
export interface KeyOperations {
  getKey(name: string, version: string | undefined): Promise<VaultKey>;
  listVersions(name: string): Promise<void>;
  sign(key: KeyRef, digest: Uint8Array): Promise<Uint8Array>;
  decrypt(key: KeyRef, ciphertext: Uint8Array): Promise<Uint8Array>;
  /** Forgets per-key state not used since `before` (ms since the epoch). */
  prune?(before: number): void;
}

export type Operation = 'list' | 'get' | 'decrypt' | 'sign';

export interface ProbeInput {
  vaultUrl: string;
  name: string;
  version: string | undefined;
  certificateKey: KeyObject;
  now: Date;
  /** Who must be granted access, in words; default the operator's identity. */
  identity?: string | undefined;
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
  identity = "the operator's identity",
): string {
  const codes = [...new Set(denied.values())];
  const operations = [...denied.keys()].join(', ');
  const base = `grant 'list', 'get', 'decrypt' and 'sign' on key ${name} in ${vaultUrl} to ${identity}; denied: ${operations} (${codes.join(', ')})`;
  if (codes.length === 1 && codes[0] === 'ForbiddenByFirewall')
    return `the vault's firewall refused the operator's address for ${operations} on key ${name} in ${vaultUrl} (ForbiddenByFirewall): allow the operator's network or a private endpoint in the vault's networking settings`;
  return `${base}: assign the role "Key Vault Crypto User" on the key or the vault (Azure RBAC), or add an access-policy entry with the key permissions list, get, decrypt and sign (vault access policy)`;
}

/** What B2B needs the key to permit (key_ops): decrypt for AS2 decryption, sign for signing. */
const NEEDED_KEY_OPS = ['decrypt', 'sign'] as const;

/** The needed operations a key's key_ops leave out; none when the vault did not say. */
export function keyOpsMissing(keyOps: readonly string[] | undefined): string[] {
  if (!keyOps) return [];
  const permitted = new Set(keyOps.map((op) => op.toLowerCase()));
  return NEEDED_KEY_OPS.filter((op) => !permitted.has(op));
}

const allowKeyOps = (name: string) =>
  `a Private certificate needs decrypt and sign: add them to the key's permitted operations (az keyvault key set-attributes --name ${name} --ops, listing those to keep too) or use a key that permits them`;

const KEY_STATE_REASONS: ReadonlySet<Reason> = new Set([
  Reason.KeyNotFound,
  Reason.KeyDisabled,
  Reason.KeyExpired,
]);

export async function probeAzureKey(ops: KeyOperations, input: ProbeInput): Promise<KeyVerdict> {
  const { vaultUrl, name, version, certificateKey, now } = input;
  // The decrypt probe is RSA-OAEP: a key restricted to RSA-PSS (or any other) cannot take part.
  if (certificateKey.asymmetricKeyType !== 'rsa') {
    return fail(
      Reason.UnsupportedKeyAlgorithm,
      `the certificate's ${certificateKey.asymmetricKeyType ?? 'unknown'} key cannot be checked against key ${name} in ${vaultUrl}: a Private certificate needs a plain RSA key (sign and decrypt)`,
    );
  }
  const got = await attempt(() => ops.getKey(name, version));
  if (!got.ok && got.error.reason === Reason.KeyNotFound) {
    return fail(
      Reason.KeyNotFound,
      `key ${name}${version ? ` version ${version}` : ''} not found in ${vaultUrl} (${got.error.code})`,
    );
  }
  if (!got.ok && KEY_STATE_REASONS.has(got.error.reason))
    return keyStateFailure(got.error, name, version, vaultUrl);
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
    // Known from get: the vault (and the SDK, before sending) would refuse the operation itself.
    const notPermitted = keyOpsMissing(key.keyOps);
    if (notPermitted.length)
      return fail(
        Reason.KeyOperationNotPermitted,
        `key ${name} version ${key.version} in ${vaultUrl} permits ${key.keyOps?.join(', ') || 'no operation'} but not ${notPermitted.join(', ')} (its key_ops); ${allowKeyOps(name)}`,
      );
  }
  const key: KeyRef = got.ok
    ? { name, version: got.value.version, updatedOn: got.value.updatedOn }
    : { name, version };
  const digest = randomBytes(32);
  const secret = randomBytes(32);
  const ciphertext = publicEncrypt(
    { key: certificateKey, padding: constants.RSA_PKCS1_OAEP_PADDING },
    secret,
  );
  // sign before decrypt: the key's client is made on the first and reused by the second.
  const listing = attempt(() => ops.listVersions(name));
  const signed = await attempt(() => ops.sign(key, digest));
  const decrypted = await attempt(() => ops.decrypt(key, ciphertext));
  const listed = await listing;
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
  if (denied.size)
    return fail(Reason.AccessDenied, accessDeniedMessage(name, vaultUrl, denied, input.identity));
  for (const [, outcome] of outcomes)
    if (!outcome.ok && KEY_STATE_REASONS.has(outcome.error.reason))
      return keyStateFailure(outcome.error, name, version, vaultUrl);
  const refused = outcomes.filter(
    ([, outcome]) => !outcome.ok && outcome.error.reason === Reason.KeyOperationNotPermitted,
  );
  if (refused.length)
    return fail(
      Reason.KeyOperationNotPermitted,
      `key ${name}${version ? ` version ${version}` : ''} in ${vaultUrl} does not permit ${refused.map(([op]) => op).join(', ')} (its key_ops); ${allowKeyOps(name)}`,
    );
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

/** The key is missing, disabled or outside its dates: the vault said so for one operation. */
function keyStateFailure(
  error: VaultErrorClass,
  name: string,
  version: string | undefined,
  vaultUrl: string,
): KeyVerdict {
  const key = `key ${name}${version ? ` version ${version}` : ''} in ${vaultUrl}`;
  switch (error.reason) {
    case Reason.KeyDisabled:
      return fail(Reason.KeyDisabled, `${key} is disabled (${error.detail}); enable it`);
    case Reason.KeyExpired:
      return fail(Reason.KeyExpired, `${key} cannot be used now (${error.detail})`);
    default:
      return fail(Reason.KeyNotFound, `${key} not found (${error.code})`);
  }
}
