import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCertificateSource, MAX_SOURCE_BYTES } from '../../../src/certificates/parse.ts';
import { pem } from '../../support/der-builder.ts';
import { keyPair } from '../../support/keys.ts';
import { selfSigned } from '../../support/certs.ts';

const leaf = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
const other = selfSigned('ec256');

function expectOk(input: string | Uint8Array) {
  const result = parseCertificateSource(input);
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}: ${result.message}`);
  return result;
}

function expectFailure(input: string | Uint8Array, reason: string, messagePart: RegExp) {
  const result = parseCertificateSource(input);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.reason).toBe(reason);
  expect(result.message).toMatch(messagePart);
  return result;
}

describe('parseCertificateSource: accepted forms', () => {
  const thumbprint = expectOk(leaf.pem).certificate.thumbprint;

  it('reads one PEM certificate', () => {
    const r = expectOk(leaf.pem);
    expect(r.ignoredCertificates).toBe(0);
    expect(r.certificate.pem).toBe(leaf.pem);
  });

  it('uses the first certificate of a PEM bundle and counts the ignored ones', () => {
    const r = expectOk(leaf.pem + other.pem + other.pem);
    expect(r.certificate.thumbprint).toBe(thumbprint);
    expect(r.ignoredCertificates).toBe(2);
  });

  it('reads base64 of DER with or without line breaks', () => {
    const b64 = leaf.der.toString('base64');
    expect(expectOk(b64).certificate.thumbprint).toBe(thumbprint);
    expect(expectOk(b64.replace(/(.{76})/g, '$1\n')).certificate.thumbprint).toBe(thumbprint);
    expect(expectOk(`  ${b64.replace(/(.{64})/g, '$1\r\n')}  \n`).certificate.thumbprint).toBe(
      thumbprint,
    );
  });

  it('reads Windows line endings and a UTF-8 BOM', () => {
    expect(expectOk(`\uFEFF${leaf.pem.replace(/\n/g, '\r\n')}`).certificate.thumbprint).toBe(
      thumbprint,
    );
  });

  it('reads raw DER bytes and PEM bytes', () => {
    expect(expectOk(leaf.der).certificate.thumbprint).toBe(thumbprint);
    expect(expectOk(Buffer.from(leaf.pem)).certificate.thumbprint).toBe(thumbprint);
  });

  it('ignores text around the PEM block (as openssl does)', () => {
    expect(expectOk(`subject=CN=test\n${leaf.pem}\n# end`).certificate.thumbprint).toBe(thumbprint);
  });
});

describe('parseCertificateSource: InvalidCertificate', () => {
  it.each([
    ['empty input', '', /empty/],
    ['whitespace only', ' \r\n\t ', /empty/],
    ['garbage', 'hello, world', /neither PEM .* nor base64/],
    [
      'base64 of garbage',
      Buffer.from('not a certificate').toString('base64'),
      /not an X\.509 certificate/,
    ],
  ])('refuses %s', (_, input, message) => {
    expectFailure(input, 'InvalidCertificate', message);
  });

  it('refuses truncated DER', () => {
    expectFailure(leaf.der.subarray(0, leaf.der.length - 10), 'InvalidCertificate', /truncated/);
    expectFailure(leaf.der.subarray(0, 100).toString('base64'), 'InvalidCertificate', /truncated/);
  });

  it('refuses trailing bytes after the DER', () => {
    const padded = Buffer.concat([leaf.der, Buffer.from([0, 0, 0])]);
    expectFailure(padded, 'InvalidCertificate', /: 3 bytes of trailing data/);
    expectFailure(pem(padded), 'InvalidCertificate', /trailing data/);
  });

  it.each([
    ['CERTIFICATE REQUEST', /found: CERTIFICATE REQUEST/],
    ['PKCS7', /found: PKCS7/],
    ['PUBLIC KEY', /found: PUBLIC KEY/],
    ['X509 CRL', /found: X509 CRL/],
  ])('refuses a PEM block of type %s', (label, message) => {
    expectFailure(pem(Buffer.from([0x30, 0x00]), label), 'InvalidCertificate', message);
  });

  it('refuses a public key alone', () => {
    const spki = keyPair('rsa2048').publicKey.export({ type: 'spki', format: 'pem' });
    expectFailure(spki, 'InvalidCertificate', /no CERTIFICATE block .*PUBLIC KEY/);
  });

  it('refuses a PEM block cut before its END line', () => {
    expectFailure(leaf.pem.slice(0, 200), 'InvalidCertificate', /truncated/);
  });

  it('refuses mismatched BEGIN and END labels', () => {
    expectFailure(
      leaf.pem.replace('END CERTIFICATE', 'END PKCS7'),
      'InvalidCertificate',
      /ends with END PKCS7/,
    );
  });

  it('refuses a CERTIFICATE block that is not base64', () => {
    expectFailure(
      '-----BEGIN CERTIFICATE-----\nMII$$$\n-----END CERTIFICATE-----',
      'InvalidCertificate',
      /not valid base64/,
    );
  });

  it('refuses input over 1 MiB without parsing it', () => {
    const big = leaf.pem + ' '.repeat(MAX_SOURCE_BYTES);
    expectFailure(big, 'InvalidCertificate', /at most 1048576/);
    expectFailure(
      Buffer.alloc(MAX_SOURCE_BYTES + 1, 0x30),
      'InvalidCertificate',
      /at most 1048576/,
    );
  });
});

describe('parseCertificateSource: PrivateKeyInCertificate', () => {
  const rsa = keyPair('rsa2048').privateKey;
  const ec = keyPair('ec256').privateKey;
  const encrypted = generateKeyPairSync('rsa', {
    modulusLength: 1024,
    privateKeyEncoding: {
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  const keys: [string, string][] = [
    ['PKCS#1', rsa.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['PKCS#8', rsa.export({ type: 'pkcs8', format: 'pem' }) as string],
    ['encrypted PKCS#8', encrypted],
    ['EC (SEC1)', ec.export({ type: 'sec1', format: 'pem' }) as string],
  ];

  it.each(keys)(
    'refuses a %s key block, alone or next to the certificate, without echoing it',
    (_, keyPem) => {
      const body = keyPem.split('\n')[1]!;
      for (const input of [keyPem, leaf.pem + keyPem, keyPem + leaf.pem]) {
        const r = expectFailure(input, 'PrivateKeyInCertificate', /private key/);
        expect(r?.message).not.toContain(body.slice(0, 16));
      }
    },
  );

  it('refuses base64 of a DER private key pasted as a .cer', () => {
    const der = rsa.export({ type: 'pkcs8', format: 'der' });
    expectFailure(der.toString('base64'), 'PrivateKeyInCertificate', /is a private key/);
    expectFailure(der, 'PrivateKeyInCertificate', /is a private key/);
  });
});

describe('parseCertificateSource: each branch, exactly', () => {
  const rsa = keyPair('rsa2048').privateKey;
  const ec = keyPair('ec256').privateKey;
  const b64 = (der: Buffer) => der.toString('base64');
  const privateKeyMessage = (what: string) =>
    `the certificate source holds a private key (${what}); remove it: private keys stay in the key vault and must not be part of a certificate source`;

  it('counts the size in UTF-8 bytes, accepting exactly the limit', () => {
    const wide = 'é'.repeat(MAX_SOURCE_BYTES / 2 + 1); // fewer characters than bytes
    expect(parseCertificateSource(wide)).toEqual({
      ok: false,
      reason: 'InvalidCertificate',
      message: `the certificate source is ${MAX_SOURCE_BYTES + 2} bytes; at most ${MAX_SOURCE_BYTES} (1 MiB) are accepted`,
    });
    expectFailure(
      ' '.repeat(MAX_SOURCE_BYTES),
      'InvalidCertificate',
      /^the certificate source is empty$/,
    );
    expectFailure(
      Buffer.alloc(MAX_SOURCE_BYTES, 0x20),
      'InvalidCertificate',
      /^the certificate source is empty$/,
    );
  });

  it('reads base64 DER after a UTF-8 BOM', () => {
    expect(expectOk(`\uFEFF${b64(leaf.der)}`).certificate.pem).toBe(leaf.pem);
  });

  it('reads PEM with old Mac line endings', () => {
    expect(expectOk(leaf.pem.replace(/\n/g, '\r')).certificate.pem).toBe(leaf.pem);
  });

  it('reads PEM bytes that do not start with a SEQUENCE byte as text', () => {
    expect(expectOk(Buffer.from(`\n${leaf.pem}`)).certificate.pem).toBe(leaf.pem);
  });

  it.each([
    ['PKCS#1 DER', rsa.export({ type: 'pkcs1', format: 'der' })],
    ['PKCS#8 DER', rsa.export({ type: 'pkcs8', format: 'der' })],
    ['SEC1 DER', ec.export({ type: 'sec1', format: 'der' })],
    [
      'encrypted PKCS#8 DER',
      rsa.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'secret' }),
    ],
  ])('names where a %s key was found', (_, der) => {
    expect(parseCertificateSource(der)).toEqual({
      ok: false,
      reason: 'PrivateKeyInCertificate',
      message: privateKeyMessage('DER is a private key'),
    });
    expect(parseCertificateSource(b64(der))).toEqual({
      ok: false,
      reason: 'PrivateKeyInCertificate',
      message: privateKeyMessage('the base64 DER is a private key'),
    });
    expect(parseCertificateSource(pem(der))).toEqual({
      ok: false,
      reason: 'PrivateKeyInCertificate',
      message: privateKeyMessage('the first CERTIFICATE block is a private key'),
    });
  });

  it('names the PEM block type of a private key', () => {
    expect(parseCertificateSource(pem(Buffer.from([0x30, 0x00]), 'EC PRIVATE KEY'))).toEqual({
      ok: false,
      reason: 'PrivateKeyInCertificate',
      message: privateKeyMessage('a PEM block of type EC PRIVATE KEY'),
    });
  });

  it('says which form was not a certificate', () => {
    const notCert = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]);
    expect(parseCertificateSource(notCert)).toEqual({
      ok: false,
      reason: 'InvalidCertificate',
      message: 'DER is not an X.509 certificate: tbsCertificate: expected tag 0x30, found 0x02',
    });
    expect(parseCertificateSource(b64(notCert))).toMatchObject({
      message:
        'the base64 DER is not an X.509 certificate: tbsCertificate: expected tag 0x30, found 0x02',
    });
    expect(parseCertificateSource(pem(notCert))).toMatchObject({
      message:
        'the first CERTIFICATE block is not an X.509 certificate: tbsCertificate: expected tag 0x30, found 0x02',
    });
  });

  it('lists each block type it found once', () => {
    const blocks =
      pem(Buffer.from([0x30, 0x00]), 'PKCS7') +
      pem(Buffer.from([0x30, 0x00]), 'X509 CRL') +
      pem(Buffer.from([0x30, 0x00]), 'PKCS7');
    expect(parseCertificateSource(blocks)).toEqual({
      ok: false,
      reason: 'InvalidCertificate',
      message:
        'the PEM text holds no CERTIFICATE block (found: PKCS7, X509 CRL); expected -----BEGIN CERTIFICATE-----',
    });
  });

  it('says exactly what is wrong with PEM framing', () => {
    expect(parseCertificateSource(leaf.pem.replace('END CERTIFICATE', 'END PKCS7'))).toEqual({
      ok: false,
      reason: 'InvalidCertificate',
      message: 'PEM block BEGIN CERTIFICATE ends with END PKCS7',
    });
    expect(parseCertificateSource(leaf.pem + '-----BEGIN CERTIFICATE-----\nMIIB')).toEqual({
      ok: false,
      reason: 'InvalidCertificate',
      message:
        'the PEM text is truncated: a -----BEGIN----- line has no matching -----END----- line',
    });
  });

  it('checks only the first certificate of a bundle', () => {
    const broken = '-----BEGIN CERTIFICATE-----\n$$$$\n-----END CERTIFICATE-----\n';
    expect(expectOk(leaf.pem + broken).ignoredCertificates).toBe(1);
    expectFailure(
      broken + leaf.pem,
      'InvalidCertificate',
      /^the first CERTIFICATE block is not valid base64$/,
    );
  });

  it.each([
    ['a character outside base64 at the start', '$$$$' + b64(leaf.der)],
    ['a character outside base64 at the end', b64(leaf.der).replace(/=*$/, '') + '$$$$'],
    ['a length that is not a multiple of 4', b64(leaf.der).replace(/=*$/, '') + 'A'],
    ['three padding characters', 'QUJDQ==='],
    ['only padding', '===='],
  ])('refuses base64 with %s', (_, body) => {
    expectFailure(body, 'InvalidCertificate', /^the certificate source is neither PEM/);
    expectFailure(
      `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
      'InvalidCertificate',
      /^the first CERTIFICATE block is not valid base64$/,
    );
  });

  it('accepts base64 with one and two padding characters', () => {
    for (const body of ['QUJDRA==', 'QUJDREU=']) {
      expectFailure(body, 'InvalidCertificate', /^the base64 DER is not an X\.509 certificate/);
    }
  });
});
