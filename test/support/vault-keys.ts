// Importing a test key pair into a Key Vault (the emulator) as an administrator would: no
// test-runner dependency, so the benchmarks use it too.
import type { KeyObject } from 'node:crypto';
import type { KeyClient, KeyVaultKey } from '@azure/keyvault-keys';

const bytes = (s: string | undefined) => new Uint8Array(Buffer.from(s ?? '', 'base64url'));

/** Imports an RSA or EC private key; Lowkey Vault needs unwrapKey beside decrypt. */
export async function importKey(
  client: KeyClient,
  name: string,
  privateKey: KeyObject,
  properties: { enabled?: boolean; expiresOn?: Date; notBefore?: Date; keyOps?: string[] } = {},
): Promise<KeyVaultKey> {
  const { keyOps, ...options } = properties;
  const jwk = privateKey.export({ format: 'jwk' });
  const key =
    jwk.kty === 'EC'
      ? {
          kty: 'EC' as const,
          crv: jwk.crv as 'P-256',
          x: bytes(jwk.x),
          y: bytes(jwk.y),
          d: bytes(jwk.d),
          keyOps: keyOps ?? ['sign', 'verify'],
        }
      : {
          kty: 'RSA' as const,
          n: bytes(jwk.n),
          e: bytes(jwk.e),
          d: bytes(jwk.d),
          p: bytes(jwk.p),
          q: bytes(jwk.q),
          dp: bytes(jwk.dp),
          dq: bytes(jwk.dq),
          qi: bytes(jwk.qi),
          keyOps: keyOps ?? ['sign', 'verify', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
        };
  return client.importKey(name, key, options);
}
