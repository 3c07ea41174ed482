import { X509Certificate, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inspectCertificate } from '../../../src/certificates/inspect.ts';
import { escapeAttributeValue } from '../../../src/certificates/names.ts';
import { buildCertificate, name } from '../../support/der-builder.ts';
import { keyPair } from '../../support/keys.ts';
import { selfSigned } from '../../support/certs.ts';

describe('inspectCertificate', () => {
  it('computes thumbprint and SHA-256 as upper-case hex without colons', () => {
    const { der } = selfSigned();
    const info = inspectCertificate(der);
    expect(info.thumbprint).toBe(createHash('sha1').update(der).digest('hex').toUpperCase());
    expect(info.sha256Fingerprint).toBe(
      createHash('sha256').update(der).digest('hex').toUpperCase(),
    );
    expect(info.thumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(info.thumbprint).toBe(new X509Certificate(der).fingerprint.replace(/:/g, ''));
  });

  it('formats subject and issuer as RFC 4514: reversed RDNs, multi-valued with +, escaped', () => {
    const subject = name([
      [['C', 'NL']],
      [['O', 'Fabrikam, Inc.']],
      [
        ['OU', 'B2B'],
        ['OU', 'EDI'],
      ],
      [['CN', '#fabrikam "signing" ']],
    ]);
    const issuer = name([[['DC', 'example']], [['CN', 'Fabrikam CA']]]);
    const info = inspectCertificate(selfSigned('rsa2048', { subject, issuer }).der);
    expect(info.subject).toBe(
      'CN=\\#fabrikam \\"signing\\"\\ ,OU=B2B+OU=EDI,O=Fabrikam\\, Inc.,C=NL',
    );
    expect(info.issuer).toBe('CN=Fabrikam CA,DC=example');
  });

  it('hex-encodes attributes of unknown type as RFC 4514 says', () => {
    const subject = name([[['1.2.3.4', 'x']]]);
    expect(inspectCertificate(selfSigned('ec256', { subject }).der).subject).toBe(
      '1.2.3.4=#0C0178',
    );
  });

  it('escapes the RFC 4514 special characters', () => {
    expect(escapeAttributeValue('a,b+c"d\\e<f>g;h')).toBe('a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
    expect(escapeAttributeValue(' lead and trail ')).toBe('\\ lead and trail\\ ');
    expect(escapeAttributeValue('nul\0')).toBe('nul\\00');
  });

  it('reads the serial as upper-case hex without the sign-padding byte', () => {
    expect(
      inspectCertificate(selfSigned('ec256', { serial: Buffer.from([0x0a, 0x1b]) }).der)
        .serialNumber,
    ).toBe('0A1B');
    expect(
      inspectCertificate(selfSigned('ec256', { serial: Buffer.from([0x00, 0xff, 0x01]) }).der)
        .serialNumber,
    ).toBe('FF01');
  });

  it('reads the validity dates', () => {
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2061-06-30T12:34:56Z'); // after 2049: GeneralizedTime
    const info = inspectCertificate(selfSigned('ec256', { notBefore, notAfter }).der);
    expect(info.notBefore.toISOString()).toBe(notBefore.toISOString());
    expect(info.notAfter.toISOString()).toBe(notAfter.toISOString());
  });

  it('reads Key Usage bits from the extension, in RFC 5280 order', () => {
    const info = inspectCertificate(
      selfSigned('rsa2048', { keyUsage: ['decipherOnly', 'dataEncipherment', 'digitalSignature'] })
        .der,
    );
    expect(info.keyUsage).toEqual(['digitalSignature', 'dataEncipherment', 'decipherOnly']);
    expect(inspectCertificate(selfSigned('rsa2048', { keyUsage: [] }).der).keyUsage).toEqual([]);
    expect(inspectCertificate(selfSigned('rsa2048').der).keyUsage).toBeUndefined();
  });

  it('reads extended key usage by name, unknown purposes as OIDs', () => {
    const info = inspectCertificate(
      selfSigned('ec256', {
        extendedKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.2.3.4.5'],
      }).der,
    );
    expect(info.extendedKeyUsage).toEqual(['serverAuth', 'clientAuth', '1.2.3.4.5']);
  });

  it.each([
    ['rsa2048', 'RSA', 2048],
    ['rsa3072', 'RSA', 3072],
    ['ec256', 'EC', 256],
    ['ec384', 'EC', 384],
    ['ed25519', 'Ed25519', 256],
  ] as const)('describes a %s public key', (kind, algorithm, size) => {
    expect(inspectCertificate(selfSigned(kind).der).publicKey).toEqual({ algorithm, size });
  });

  it('reads a certificate signed by another key (issuer differs from subject)', () => {
    const ca = keyPair('ec384');
    const der = buildCertificate({
      subjectKey: keyPair('rsa2048').publicKey,
      signingKey: ca.privateKey,
      issuer: name([[['CN', 'Issuing CA']]]),
    });
    const info = inspectCertificate(der);
    expect(info.issuer).toBe('CN=Issuing CA');
    expect(info.publicKey.algorithm).toBe('RSA');
  });
});
