// Convenience: self-signed test certificates of a given key kind.
import { buildCertificate, pem, type CertificateOptions } from './der-builder.ts';
import { keyPair } from './keys.ts';

export type KeyKind = Parameters<typeof keyPair>[0];

export function selfSigned(
  kind: KeyKind = 'rsa2048',
  options: Partial<Omit<CertificateOptions, 'subjectKey' | 'signingKey'>> = {},
  slot = 0,
): { der: Buffer; pem: string } {
  const pair = keyPair(kind, slot);
  const der = buildCertificate({
    subjectKey: pair.publicKey,
    signingKey: pair.privateKey,
    ...options,
  });
  return { der, pem: pem(der) };
}

/** A certificate usable as a Private certificate: RSA, with Data Encipherment. */
/** `slot` picks the test key pair (keyPair('rsa2048', slot)) the certificate is made for. */
export function privateUsable(
  options: Partial<Omit<CertificateOptions, 'subjectKey' | 'signingKey'>> = {},
  slot = 0,
) {
  return selfSigned(
    'rsa2048',
    { keyUsage: ['digitalSignature', 'keyEncipherment', 'dataEncipherment'], ...options },
    slot,
  );
}
