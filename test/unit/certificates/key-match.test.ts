import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyMatchesCertificate } from '../../../src/certificates/key-match.ts';
import { inspectCertificate } from '../../../src/certificates/inspect.ts';
import { keyPair } from '../../support/keys.ts';
import { selfSigned } from '../../support/certs.ts';

/** A JWK as @azure/keyvault-keys returns it: byte arrays, kty with -HSM sometimes. */
function vaultJwk(kind: 'rsa2048' | 'ec256', slot = 0, kty?: string) {
  const jwk = keyPair(kind, slot).publicKey.export({ format: 'jwk' });
  const bytes = (s: string | undefined) =>
    s === undefined ? undefined : new Uint8Array(Buffer.from(s, 'base64url'));
  return {
    kty: kty ?? jwk.kty,
    n: bytes(jwk.n),
    e: bytes(jwk.e),
    crv: jwk.crv,
    x: bytes(jwk.x),
    y: bytes(jwk.y),
  };
}

describe('keyMatchesCertificate', () => {
  const rsaCert = inspectCertificate(selfSigned('rsa2048').der).publicKeyObject;
  const ecCert = inspectCertificate(selfSigned('ec256').der).publicKeyObject;

  it('matches the certificate key given as a Key Vault JWK (bytes), also RSA-HSM', () => {
    expect(keyMatchesCertificate(rsaCert, { jwk: vaultJwk('rsa2048') })).toEqual({ match: true });
    expect(keyMatchesCertificate(rsaCert, { jwk: vaultJwk('rsa2048', 0, 'RSA-HSM') })).toEqual({
      match: true,
    });
    expect(keyMatchesCertificate(ecCert, { jwk: vaultJwk('ec256') })).toEqual({ match: true });
  });

  it('compares keys, not encodings: a modulus with a leading zero byte still matches', () => {
    const jwk = vaultJwk('rsa2048');
    const padded = { ...jwk, n: new Uint8Array([0, ...jwk.n!]) };
    const viaNode = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(padded.n).toString('base64url'), e: 'AQAB' },
      format: 'jwk',
    });
    expect(viaNode.equals(rsaCert)).toBe(true);
    expect(keyMatchesCertificate(rsaCert, { jwk: padded })).toEqual({ match: true });
  });

  it('refuses another key of the same type', () => {
    const r = keyMatchesCertificate(rsaCert, { jwk: vaultJwk('rsa2048', 1) });
    expect(r).toEqual({ match: false, detail: expect.stringMatching(/differs/) as unknown });
  });

  it('refuses a key of another type', () => {
    const r = keyMatchesCertificate(rsaCert, { jwk: vaultJwk('ec256') });
    expect(r.match).toBe(false);
    expect(r.match ? '' : r.detail).toMatch(/key is ec but the certificate's is rsa/);
  });

  it('matches a PEM private key (the kubernetes vault) and refuses another', () => {
    const pemOf = (slot: number) =>
      keyPair('rsa2048', slot).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(keyMatchesCertificate(rsaCert, { privateKeyPem: pemOf(0) })).toEqual({ match: true });
    expect(keyMatchesCertificate(rsaCert, { privateKeyPem: pemOf(1) }).match).toBe(false);
  });

  it('says an unreadable key is unreadable without echoing it', () => {
    const garbage =
      '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n';
    const r = keyMatchesCertificate(rsaCert, { privateKeyPem: garbage });
    expect(r.match).toBe(false);
    expect(r.match ? '' : r.detail).toMatch(/could not be read/);
    expect(JSON.stringify(r)).not.toContain('c2VjcmV0');
    expect(keyMatchesCertificate(rsaCert, { jwk: { kty: 'oct' } }).match).toBe(false);
  });
});
