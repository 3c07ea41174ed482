import {
  X509Certificate,
  createHash,
  createSecretKey,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DerError } from '../../../src/certificates/der.ts';
import {
  describePublicKey,
  inspectCertificate,
  keyUsageNames,
  toPem,
} from '../../../src/certificates/inspect.ts';
import { escapeAttributeValue } from '../../../src/certificates/names.ts';
import {
  bool,
  buildCertificate,
  explicit,
  integer,
  name,
  namedBits,
  nullValue,
  octets,
  oid,
  seq,
  time,
  tlv,
  utf8,
} from '../../support/der-builder.ts';
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

// Certificates with exactly the fields a branch needs, signed by an ordinary RSA key.
const signer = keyPair('rsa2048', 3);
const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nullValue());

function rawCertificate(
  options: {
    version?: boolean;
    serial?: number[];
    subjectKey?: KeyObject;
    extensions?: Uint8Array[];
    /** The contents of the [3] wrapper as is, instead of a SEQUENCE of `extensions`. */
    extensionsWrapper?: Uint8Array;
    /** issuerUniqueID ([1] IMPLICIT BIT STRING), which sits before the extensions. */
    issuerUniqueId?: boolean;
  } = {},
): Buffer {
  const tbs = seq(
    ...(options.version === false ? [] : [explicit(0, integer(Buffer.from([2])))]),
    integer(Buffer.from(options.serial ?? [1])),
    sha256WithRsa,
    name([[['CN', 'Raw CA']]]),
    seq(time(new Date('2026-01-01T00:00:00Z')), time(new Date('2027-01-01T00:00:00Z'))),
    name([[['CN', 'raw.example']]]),
    (options.subjectKey ?? signer.publicKey).export({ type: 'spki', format: 'der' }),
    ...(options.issuerUniqueId ? [tlv(0x81, Buffer.from([0, 0x30, 0x03]))] : []),
    ...(options.extensionsWrapper ? [explicit(3, options.extensionsWrapper)] : []),
    ...(options.extensions ? [explicit(3, seq(...options.extensions))] : []),
  );
  const signature = sign('sha256', tbs, signer.privateKey);
  return Buffer.from(seq(tbs, sha256WithRsa, tlv(0x03, Buffer.from([0]), signature)));
}

const extension = (id: string, value: Uint8Array, critical?: boolean) =>
  seq(oid(id), ...(critical === undefined ? [] : [bool(critical)]), octets(value));

describe('inspectCertificate: structure', () => {
  it('reads a version 1 certificate, which has no version field and no extensions', () => {
    const info = inspectCertificate(rawCertificate({ version: false, serial: [0x05] }));
    expect(info.serialNumber).toBe('05');
    expect(info.subject).toBe('CN=raw.example');
    expect(info.issuer).toBe('CN=Raw CA');
    expect(info.keyUsage).toBeUndefined();
    expect(info.extendedKeyUsage).toEqual([]);
  });

  it.each([
    [[0x00], '00'],
    [[0x00, 0x80], '80'],
    [[0x01, 0x80], '0180'],
    [[0x7f, 0xff], '7FFF'],
  ])('formats serial %j as %s', (serial, hex) => {
    expect(inspectCertificate(rawCertificate({ serial })).serialNumber).toBe(hex);
  });

  it('reads extensions with and without the critical flag and ignores unknown ones', () => {
    const info = inspectCertificate(
      rawCertificate({
        extensions: [
          extension('2.5.29.19', seq(), true), // basicConstraints
          extension('2.5.29.15', namedBits([3]), false),
          extension('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.4'))),
        ],
      }),
    );
    expect(info.keyUsage).toEqual(['dataEncipherment']);
    expect(info.extendedKeyUsage).toEqual(['emailProtection']);
  });

  it('finds the extensions behind an issuerUniqueID', () => {
    const info = inspectCertificate(
      rawCertificate({
        issuerUniqueId: true,
        extensions: [extension('2.5.29.15', namedBits([3]))],
      }),
    );
    expect(info.keyUsage).toEqual(['dataEncipherment']);
  });

  it('names every well-known extended key usage', () => {
    const purposes = [
      ['1.3.6.1.5.5.7.3.1', 'serverAuth'],
      ['1.3.6.1.5.5.7.3.2', 'clientAuth'],
      ['1.3.6.1.5.5.7.3.3', 'codeSigning'],
      ['1.3.6.1.5.5.7.3.4', 'emailProtection'],
      ['1.3.6.1.5.5.7.3.8', 'timeStamping'],
      ['1.3.6.1.5.5.7.3.9', 'OCSPSigning'],
      ['2.5.29.37.0', 'anyExtendedKeyUsage'],
    ];
    const info = inspectCertificate(
      selfSigned('ec256', { extendedKeyUsage: purposes.map(([id]) => id!) }).der,
    );
    expect(info.extendedKeyUsage).toEqual(purposes.map(([, label]) => label));
  });

  it('reads all nine Key Usage bits, the ninth in the second byte', () => {
    const info = inspectCertificate(
      rawCertificate({
        extensions: [extension('2.5.29.15', namedBits([0, 1, 2, 3, 4, 5, 6, 7, 8]))],
      }),
    );
    expect(info.keyUsage).toEqual([...keyUsageNames]);
    const eighth = inspectCertificate(
      rawCertificate({ extensions: [extension('2.5.29.15', namedBits([7]))] }),
    );
    expect(eighth.keyUsage).toEqual(['encipherOnly']);
  });

  it.each([
    [
      'a non-SEQUENCE certificate',
      Buffer.from([0x31, 0x00]),
      /^certificate: expected tag 0x30, found 0x31$/,
    ],
    ['an empty certificate', Buffer.from([0x30, 0x00]), /^tbsCertificate is missing$/],
    [
      'a tbsCertificate that is not a SEQUENCE',
      Buffer.from(seq(tlv(0x31))),
      /^tbsCertificate: expected tag 0x30, found 0x31$/,
    ],
  ])('refuses %s, naming the part', (_, der, message) => {
    expect(() => inspectCertificate(der)).toThrow(message);
  });

  it.each([
    [
      'an extensions wrapper without a SEQUENCE',
      [tlv(0x31)],
      'extensions: expected tag 0x30, found 0x31',
      true,
    ],
    [
      'an extension that is not a SEQUENCE',
      [tlv(0x04)],
      'extension: expected tag 0x30, found 0x04',
    ],
    [
      'an extension without an id',
      [seq(octets(Buffer.from([1])))],
      'extension id: expected tag 0x06, found 0x04',
    ],
    [
      'an extension value that is not an OCTET STRING',
      [seq(oid('2.5.29.15'), bool(true))],
      'extension 2.5.29.15 value: expected tag 0x04, found 0x01',
    ],
    [
      'the same extension twice',
      [extension('2.5.29.15', namedBits([3])), extension('2.5.29.15', namedBits([3]))],
      'extension 2.5.29.15 appears twice',
    ],
    [
      'a Key Usage that is not a BIT STRING',
      [extension('2.5.29.15', seq())],
      'Key Usage: expected tag 0x03, found 0x30',
    ],
    [
      'a Key Usage BIT STRING without contents',
      [extension('2.5.29.15', tlv(0x03))],
      'Key Usage: malformed BIT STRING',
    ],
    [
      'a Key Usage BIT STRING with 8 unused bits',
      [extension('2.5.29.15', tlv(0x03, Buffer.from([8, 0x80])))],
      'Key Usage: malformed BIT STRING',
    ],
    [
      'an Extended Key Usage that is not a SEQUENCE',
      [extension('2.5.29.37', oid('1.3.6.1.5.5.7.3.1'))],
      'Extended Key Usage: expected tag 0x30, found 0x06',
    ],
    [
      'a key purpose that is not an OID',
      [extension('2.5.29.37', seq(utf8('serverAuth')))],
      'key purpose: expected tag 0x06, found 0x0c',
    ],
  ] as [string, Uint8Array[], string, boolean?][])(
    'refuses %s',
    (_, contents, message, rawWrapper) => {
      const der = rawWrapper
        ? rawCertificate({ extensionsWrapper: contents[0]! })
        : rawCertificate({ extensions: contents });
      expect(() => inspectCertificate(der)).toThrow(new DerError(message));
    },
  );

  it('accepts 7 unused bits, the most a BIT STRING can have', () => {
    const info = inspectCertificate(
      rawCertificate({ extensions: [extension('2.5.29.15', tlv(0x03, Buffer.from([7, 0x80])))] }),
    );
    expect(info.keyUsage).toEqual(['digitalSignature']);
  });

  it('wraps the PEM at 64 characters', () => {
    const der = rawCertificate();
    const lines = inspectCertificate(der).pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-1)).toBe('-----END CERTIFICATE-----');
    expect(lines.slice(1, -2).every((line) => line.length === 64)).toBe(true);
    expect(lines.slice(1, -1).join('')).toBe(der.toString('base64'));
    expect(toPem(Buffer.from([1, 2, 3]))).toBe(
      '-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n',
    );
  });
});

describe('describePublicKey', () => {
  const rsaPss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey;
  const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey;
  const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve }).publicKey;

  it.each([
    ['RSA 2048', keyPair('rsa2048').publicKey, { algorithm: 'RSA', size: 2048 }],
    ['RSA-PSS', rsaPss, { algorithm: 'RSA-PSS', size: 2048 }],
    ['P-256', ec('P-256'), { algorithm: 'EC', size: 256 }],
    ['P-384', ec('P-384'), { algorithm: 'EC', size: 384 }],
    ['P-521', ec('P-521'), { algorithm: 'EC', size: 521 }],
    ['secp256k1', ec('secp256k1'), { algorithm: 'EC', size: 256 }],
    ['secp224r1', ec('secp224r1'), { algorithm: 'EC', size: 224 }],
    ['prime192v1', ec('prime192v1'), { algorithm: 'EC', size: 192 }],
    ['an unlisted curve', ec('brainpoolP256r1'), { algorithm: 'EC', size: 0 }],
    ['Ed25519', generateKeyPairSync('ed25519').publicKey, { algorithm: 'Ed25519', size: 256 }],
    ['Ed448', generateKeyPairSync('ed448').publicKey, { algorithm: 'Ed448', size: 456 }],
    ['DSA', dsa, { algorithm: 'DSA', size: 2048 }],
    [
      'X25519 (Node name)',
      generateKeyPairSync('x25519').publicKey,
      { algorithm: 'x25519', size: 0 },
    ],
    ['a secret key', createSecretKey(Buffer.alloc(16)), { algorithm: 'unknown', size: 0 }],
  ])('%s', (_, key, expected) => {
    expect(describePublicKey(key)).toEqual(expected);
  });

  it.each([
    ['Ed448', generateKeyPairSync('ed448').publicKey, 'Ed448', 456],
    ['DSA', dsa, 'DSA', 2048],
    ['RSA-PSS', rsaPss, 'RSA-PSS', 2048],
    ['P-521', ec('P-521'), 'EC', 521],
  ] as const)('reads a certificate for a %s key', (_, subjectKey, algorithm, size) => {
    const info = inspectCertificate(rawCertificate({ subjectKey }));
    expect(info.publicKey).toEqual({ algorithm, size });
    expect(info.publicKeyObject.equals(subjectKey)).toBe(true);
  });
});
