// Does a key belong to a certificate? Keys are compared as keys (KeyObject.equals), never as
// strings, so encodings (leading zero bytes, PEM vs JWK) do not matter.
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** A public key as Key Vault returns it: byte arrays, or base64url strings. */
export interface VaultJsonWebKey {
  kty?: string;
  n?: Uint8Array | string;
  e?: Uint8Array | string;
  crv?: string;
  x?: Uint8Array | string;
  y?: Uint8Array | string;
}

export type KeyMatch = { match: true } | { match: false; detail: string };

const curveNames: Record<string, string> = { 'P-256K': 'secp256k1', SECP256K1: 'secp256k1' };

function base64url(value: Uint8Array | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64url');
}

/** Key Vault's JWK (kty RSA, RSA-HSM, EC, EC-HSM, OKP) as a Node public KeyObject. */
export function publicKeyFromVaultJwk(key: VaultJsonWebKey): KeyObject {
  const kty = (key.kty ?? '').replace(/-HSM$/, '');
  let jwk: JsonWebKey;
  if (kty === 'RSA') jwk = { kty, n: base64url(key.n), e: base64url(key.e) };
  else if (kty === 'EC')
    jwk = {
      kty,
      crv: curveNames[key.crv ?? ''] ?? key.crv,
      x: base64url(key.x),
      y: base64url(key.y),
    };
  else if (kty === 'OKP') jwk = { kty, crv: key.crv, x: base64url(key.x) };
  else throw new Error(`unsupported key type '${key.kty ?? ''}'`);
  return createPublicKey({ key: jwk, format: 'jwk' });
}

export function keyMatchesCertificate(
  certificateKey: KeyObject,
  candidate: { jwk: VaultJsonWebKey } | { privateKeyPem: string },
): KeyMatch {
  let candidateKey: KeyObject;
  try {
    candidateKey =
      'jwk' in candidate
        ? publicKeyFromVaultJwk(candidate.jwk)
        : createPublicKey(createPrivateKey(candidate.privateKeyPem));
  } catch (err) {
    // Node's messages name the problem, never the key material.
    const detail = err instanceof Error ? err.message : 'unreadable key';
    return { match: false, detail: `the key could not be read: ${detail}` };
  }
  if (candidateKey.asymmetricKeyType !== certificateKey.asymmetricKeyType) {
    return {
      match: false,
      detail: `the key is ${candidateKey.asymmetricKeyType ?? 'unknown'} but the certificate's is ${certificateKey.asymmetricKeyType ?? 'unknown'}`,
    };
  }
  if (!candidateKey.equals(certificateKey)) {
    return {
      match: false,
      detail: "the key's public part differs from the certificate's public key",
    };
  }
  return { match: true };
}
