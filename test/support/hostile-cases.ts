// Hostile certificate sources: megabyte PEMs and base64, NUL bytes, thousands of SANs and
// extensions, serials and dates at the ASN.1 limits, 512- and 16,384-bit keys, garbage DER,
// truncated PEM, wrong labels, private keys where the certificate belongs. Each says the reason
// the operator's Ready condition must carry. Read by test/unit/certificates/hostile.test.ts
// (bounded time per verdict) and test/integration/hostile-input.test.ts (the real operator).
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import {
  buildCertificate,
  extension,
  integer,
  name,
  oid,
  pem,
  seq,
  tlv,
  utf8,
  nullValue,
  type Bytes,
  type CertificateOptions,
} from './der-builder.ts';
import { keyPair } from './keys.ts';

const DAY = 86_400_000;
/** Just under the API server's 1 MiB limit for a Secret's data. */
const NEAR_ONE_MIB = 1024 * 1024 - 4096;

export interface HostileSource {
  /** Also the Certificate's name. */
  name: string;
  /** What is hostile about it, for the test names and the report. */
  what: string;
  source: string | Buffer;
  /** Through a Secret even when small enough to be inline (binary data). */
  viaSecret?: boolean;
  type?: 'Public' | 'Private';
  /** For Private: the kubernetes vault's key Secret `name` (holding `keyPem` as tls.key). */
  key?: { name: string; keyPem: string };
  /** Ready's reason. */
  reason: string;
}

const rsa512 = generateKeyPairSync('rsa', { modulusLength: 512 });
const signer = keyPair('rsa2048', 40);

/**
 * A 16,384-bit RSA public key without its private half: generating a real one takes minutes,
 * and nothing here signs or decrypts with it (the certificate is signed by another key).
 */
function rsaPublicKey(bits: number): KeyObject {
  const modulus = randomBytes(bits / 8);
  modulus[0]! |= 0x80;
  modulus[modulus.length - 1]! |= 1;
  const rsaKey = seq(
    integer(Buffer.concat([Buffer.from([0]), modulus])),
    integer(Buffer.from([1, 0, 1])),
  );
  const spki = seq(
    seq(oid('1.2.840.113549.1.1.1'), nullValue()),
    tlv(0x03, Buffer.from([0]), rsaKey),
  );
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

type Options = Partial<Omit<CertificateOptions, 'signingKey'>>;

/** A certificate for `subjectKey` (default: a fresh RSA key of the signer) signed by the signer. */
function certificate(options: Options = {}): Buffer {
  return buildCertificate({
    subjectKey: signer.publicKey,
    signingKey: signer.privateKey,
    issuer: name([[['CN', 'Hostile Test CA']]]),
    ...options,
  });
}
const certPem = (options: Options = {}) => pem(certificate(options));

const utcTime = (s: string): Bytes => tlv(0x17, Buffer.from(s, 'latin1'));
const generalizedTime = (s: string): Bytes => tlv(0x18, Buffer.from(s, 'latin1'));
const validity = (notBefore: Bytes, notAfter: Bytes) => seq(notBefore, notAfter);
const yearsAgo = generalizedTime('20200101000000Z');
const inTenYears = utcTime('361231235959Z');

const dnsSans = (count: number) =>
  extension(
    '2.5.29.17',
    seq(
      ...Array.from({ length: count }, (_, i) =>
        tlv(0x82, Buffer.from(`host-${i}.partner.example`)),
      ),
    ),
  );

const privateKeyPem = (type: 'pkcs8' | 'pkcs1' | 'sec1', kind: 'rsa2048' | 'ec256' = 'rsa2048') =>
  keyPair(kind, 41).privateKey.export({ type, format: 'pem' } as never) as unknown as string;

const valid = certPem();
const validDer = certificate();
const chainFiller = certPem({ serial: Buffer.from([0x42]) });

/** Wraps text as a PEM block without checking it (wrong labels, garbage bodies). */
const block = (label: string, body: string, endLabel = label) =>
  `-----BEGIN ${label}-----\n${body}\n-----END ${endLabel}-----\n`;

/** DER nested `depth` SEQUENCEs deep. */
function nested(depth: number): Buffer {
  let inner: Bytes = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) inner = seq(inner);
  return Buffer.from(inner);
}

export const hostileSources: HostileSource[] = [
  // Size
  {
    name: 'pem-begin-flood',
    what: '1 MiB of -----BEGIN CERTIFICATE----- lines and no END',
    source: '-----BEGIN CERTIFICATE-----\n'.repeat(Math.floor(NEAR_ONE_MIB / 28)),
    reason: 'InvalidCertificate',
  },
  {
    name: 'base64-flood',
    what: '1 MiB of base64 that is no DER',
    source: 'QUFB'.repeat(NEAR_ONE_MIB / 4),
    reason: 'InvalidCertificate',
  },
  {
    name: 'pem-megabyte-body',
    what: 'one CERTIFICATE block with a 1 MiB body of base64 garbage',
    source: block('CERTIFICATE', 'QUFB'.repeat((NEAR_ONE_MIB - 100) / 4)),
    reason: 'InvalidCertificate',
  },
  {
    name: 'pem-megabyte-bundle',
    what: 'a 1 MiB PEM bundle: the partner certificate, then hundreds of others',
    source:
      valid + chainFiller.repeat(Math.floor((NEAR_ONE_MIB - valid.length) / chainFiller.length)),
    reason: 'Ready',
  },
  {
    name: 'pem-begin-end-flood',
    what: '1 MiB of empty BEGIN/END pairs of another label',
    source: block('X', '').repeat(Math.floor(NEAR_ONE_MIB / block('X', '').length)),
    reason: 'InvalidCertificate',
  },
  // NUL bytes and encodings
  {
    name: 'nul-bytes',
    what: '4 KiB of NUL bytes',
    source: '\0'.repeat(4096),
    reason: 'InvalidCertificate',
  },
  {
    name: 'nul-in-pem-body',
    what: 'a NUL byte inside the base64 of a PEM block',
    source: valid.replace(/\n(.{10})/, '\n$1\0'),
    reason: 'InvalidCertificate',
  },
  {
    name: 'nul-after-der',
    what: 'binary DER followed by 1,000 NUL bytes',
    source: Buffer.concat([validDer, Buffer.alloc(1000)]),
    viaSecret: true,
    reason: 'InvalidCertificate',
  },
  {
    name: 'der-binary',
    what: 'raw binary DER in a Secret',
    source: validDer,
    viaSecret: true,
    reason: 'Ready',
  },
  {
    name: 'bom-crlf',
    what: 'a byte-order mark and CRLF line ends',
    source: `\uFEFF${valid.replace(/\n/g, '\r\n')}`,
    reason: 'Ready',
  },
  {
    name: 'empty-after-trim',
    what: 'whitespace only',
    source: ' \n\t\r\n ',
    reason: 'InvalidCertificate',
  },
  {
    name: 'latin1-garbage',
    what: 'bytes that are not UTF-8',
    source: Buffer.from(Array.from({ length: 2048 }, (_, i) => 0x80 + (i % 128))),
    viaSecret: true,
    reason: 'InvalidCertificate',
  },
  // PEM structure
  {
    name: 'pem-truncated',
    what: 'PEM cut before its END line',
    source: valid.slice(0, valid.indexOf('-----END')),
    reason: 'InvalidCertificate',
  },
  {
    name: 'pem-truncated-body',
    what: 'PEM whose base64 body lost its second half',
    source: block('CERTIFICATE', validDer.subarray(0, validDer.length >> 1).toString('base64')),
    reason: 'InvalidCertificate',
  },
  {
    name: 'label-public-key',
    what: 'a PUBLIC KEY block instead of a CERTIFICATE',
    source: signer.publicKey.export({ type: 'spki', format: 'pem' }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'label-mismatch',
    what: 'BEGIN CERTIFICATE ending with END X509 CRL',
    source: block('CERTIFICATE', validDer.toString('base64'), 'X509 CRL'),
    reason: 'InvalidCertificate',
  },
  {
    name: 'label-trusted',
    what: 'a TRUSTED CERTIFICATE block (OpenSSL aux format)',
    source: block('TRUSTED CERTIFICATE', validDer.toString('base64')),
    reason: 'InvalidCertificate',
  },
  {
    name: 'label-lowercase',
    what: 'a lower-case -----BEGIN certificate----- label',
    source: block('certificate', validDer.toString('base64')),
    reason: 'InvalidCertificate',
  },
  {
    name: 'label-csr',
    what: 'a CERTIFICATE REQUEST',
    source: block('CERTIFICATE REQUEST', validDer.toString('base64')),
    reason: 'InvalidCertificate',
  },
  {
    name: 'pem-bundle-three',
    what: 'three certificates in one PEM (the first is used)',
    source: valid + chainFiller + chainFiller,
    reason: 'Ready',
  },
  // Private keys where the certificate belongs
  {
    name: 'key-pkcs8',
    what: 'a PKCS#8 PRIVATE KEY only',
    source: privateKeyPem('pkcs8'),
    reason: 'PrivateKeyInCertificate',
  },
  {
    name: 'key-pkcs1',
    what: 'an RSA PRIVATE KEY only',
    source: privateKeyPem('pkcs1'),
    reason: 'PrivateKeyInCertificate',
  },
  {
    name: 'key-sec1',
    what: 'an EC PRIVATE KEY only',
    source: privateKeyPem('sec1', 'ec256'),
    reason: 'PrivateKeyInCertificate',
  },
  {
    name: 'key-encrypted',
    what: 'an ENCRYPTED PRIVATE KEY',
    source: keyPair('rsa2048', 41).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'hostile',
    }),
    reason: 'PrivateKeyInCertificate',
  },
  {
    name: 'key-der-base64',
    what: 'base64 of a DER private key',
    source: (
      keyPair('rsa2048', 41).privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer
    ).toString('base64'),
    reason: 'PrivateKeyInCertificate',
  },
  {
    name: 'key-der-binary',
    what: 'a binary DER private key in a Secret',
    source: keyPair('rsa2048', 41).privateKey.export({ type: 'pkcs8', format: 'der' }),
    viaSecret: true,
    reason: 'PrivateKeyInCertificate',
  },
  {
    name: 'key-after-certificate',
    what: 'a certificate followed by its private key',
    source: valid + privateKeyPem('pkcs8'),
    reason: 'PrivateKeyInCertificate',
  },
  // Garbage DER
  {
    name: 'der-garbage',
    what: 'a SEQUENCE tag followed by random bytes',
    source: Buffer.concat([Buffer.from([0x30, 0x82, 0x04, 0x00]), randomBytes(1024)]).toString(
      'base64',
    ),
    reason: 'InvalidCertificate',
  },
  {
    name: 'der-indefinite-length',
    what: 'BER indefinite length (not DER)',
    source: Buffer.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00]).toString('base64'),
    reason: 'InvalidCertificate',
  },
  {
    name: 'der-huge-length',
    what: 'a length of 2^40 bytes',
    source: Buffer.from([0x30, 0x85, 0x01, 0, 0, 0, 0, 0x02, 0x01, 0x01]).toString('base64'),
    reason: 'InvalidCertificate',
  },
  {
    name: 'der-deep-nesting',
    what: '10,000 nested SEQUENCEs',
    source: nested(10_000),
    viaSecret: true,
    reason: 'InvalidCertificate',
  },
  {
    name: 'der-trailing-data',
    what: 'a certificate followed by trailing bytes',
    source: Buffer.concat([validDer, Buffer.from('trailing')]).toString('base64'),
    reason: 'InvalidCertificate',
  },
  // Serials
  {
    name: 'serial-20-bytes',
    what: 'a 20-byte serial (RFC 5280 maximum)',
    source: certPem({ serial: Buffer.alloc(20, 0x7f) }),
    reason: 'Ready',
  },
  {
    name: 'serial-21-bytes',
    what: 'a 21-byte serial (over RFC 5280, seen in the wild)',
    source: certPem({ serial: Buffer.alloc(21, 0x7f) }),
    reason: 'Ready',
  },
  {
    name: 'serial-1000-bytes',
    what: 'a 1,000-byte serial',
    source: certPem({ serial: Buffer.alloc(1000, 0x11) }),
    reason: 'Ready',
  },
  {
    name: 'serial-negative',
    what: 'a negative serial',
    source: certPem({ serial: Buffer.from([0xff, 0x01]) }),
    reason: 'Ready',
  },
  {
    name: 'serial-zero',
    what: 'serial 0',
    source: certPem({ serial: Buffer.from([0]) }),
    reason: 'Ready',
  },
  {
    name: 'serial-empty',
    what: 'an INTEGER of no bytes as serial',
    source: certPem({ serial: Buffer.alloc(0) }),
    reason: 'InvalidCertificate',
  },
  // Dates
  {
    name: 'time-generalized-9999',
    what: 'notAfter GeneralizedTime 99991231235959Z (the "no expiry" date)',
    source: certPem({ validity: validity(yearsAgo, generalizedTime('99991231235959Z')) }),
    reason: 'Ready',
  },
  {
    name: 'time-utc-1950',
    what: 'notBefore UTCTime 500101000000Z (1950, the first UTCTime year)',
    source: certPem({ validity: validity(utcTime('500101000000Z'), inTenYears) }),
    reason: 'Ready',
  },
  {
    name: 'time-utc-2049',
    what: 'notAfter UTCTime 491231235959Z (2049, the last UTCTime year)',
    source: certPem({ validity: validity(yearsAgo, utcTime('491231235959Z')) }),
    reason: 'Ready',
  },
  {
    name: 'time-utc-2049-not-before',
    what: 'notBefore UTCTime 491231235959Z (2049: not yet valid)',
    source: certPem({
      validity: validity(utcTime('491231235959Z'), generalizedTime('20600101000000Z')),
    }),
    reason: 'CertificateNotYetValid',
  },
  {
    name: 'time-utc-1950-not-after',
    what: 'notAfter UTCTime 500101000000Z (1950: expired)',
    source: certPem({
      validity: validity(generalizedTime('19000101000000Z'), utcTime('500101000000Z')),
    }),
    reason: 'CertificateExpired',
  },
  {
    name: 'time-generalized-year-0',
    what: 'notBefore GeneralizedTime 00000101000000Z',
    source: certPem({ validity: validity(generalizedTime('00000101000000Z'), inTenYears) }),
    reason: 'Ready',
  },
  {
    name: 'time-month-13',
    what: 'a UTCTime with month 13',
    source: certPem({ validity: validity(utcTime('201301000000Z'), inTenYears) }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'time-feb-30',
    what: 'a UTCTime of February 30',
    source: certPem({ validity: validity(utcTime('200230000000Z'), inTenYears) }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'time-hour-24',
    what: 'a GeneralizedTime at hour 24',
    source: certPem({ validity: validity(generalizedTime('20200101240000Z'), inTenYears) }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'time-no-zone',
    what: 'a UTCTime without seconds or Z',
    source: certPem({ validity: validity(utcTime('2001010000'), inTenYears) }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'time-reversed',
    what: 'notAfter before notBefore',
    source: certPem({
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() - 2 * DAY),
    }),
    reason: 'CertificateExpired',
  },
  // Keys
  {
    name: 'rsa-512',
    what: 'a 512-bit RSA key (Public)',
    source: certPem({ subjectKey: rsa512.publicKey }),
    reason: 'Ready',
  },
  {
    name: 'rsa-16384',
    what: 'a 16,384-bit RSA key (Public)',
    source: certPem({ subjectKey: rsaPublicKey(16_384) }),
    reason: 'Ready',
  },
  {
    name: 'rsa-16384-private',
    what: 'a 16,384-bit RSA key (Private) whose vault key is another one',
    source: certPem({
      subjectKey: rsaPublicKey(16_384),
      keyUsage: ['digitalSignature', 'dataEncipherment'],
    }),
    type: 'Private',
    key: { name: 'vault-key-2048', keyPem: privateKeyPem('pkcs8') },
    reason: 'KeyMismatch',
  },
  {
    name: 'rsa-512-private',
    what: 'a 512-bit RSA key (Private) with its key in the vault: too small for RSA-OAEP-256',
    source: certPem({
      subjectKey: rsa512.publicKey,
      keyUsage: ['digitalSignature', 'dataEncipherment'],
    }),
    type: 'Private',
    key: {
      name: 'vault-key-512',
      keyPem: rsa512.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    },
    reason: 'UnsupportedKeyAlgorithm',
  },
  {
    name: 'ed25519-private',
    what: 'an Ed25519 key for a Private certificate',
    source: certPem({ subjectKey: keyPair('ed25519').publicKey, keyUsage: ['dataEncipherment'] }),
    type: 'Private',
    key: { name: 'vault-key-2048', keyPem: privateKeyPem('pkcs8') },
    reason: 'UnsupportedKeyAlgorithm',
  },
  // Extensions
  {
    name: 'critical-unknown-extension',
    what: 'an unknown critical extension (stored as is; the partner system judges it)',
    source: certPem({ extensions: [extension('1.3.6.1.4.1.99999.1', utf8('x'), true)] }),
    reason: 'Ready',
  },
  {
    name: 'sans-5000',
    what: '5,000 DNS names in subjectAltName',
    source: certPem({ extensions: [dnsSans(5000)] }),
    reason: 'Ready',
  },
  {
    name: 'extensions-3000',
    what: '3,000 unknown extensions',
    source: certPem({
      extensions: Array.from({ length: 3000 }, (_, i) =>
        extension(`1.3.6.1.4.1.99999.2.${i}`, utf8('x')),
      ),
    }),
    reason: 'Ready',
  },
  {
    name: 'extension-twice',
    what: 'the same extension twice',
    source: certPem({
      extensions: [
        extension('1.3.6.1.4.1.99999.3', utf8('a')),
        extension('1.3.6.1.4.1.99999.3', utf8('b')),
      ],
    }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'key-usage-malformed',
    what: 'a Key Usage BIT STRING claiming 9 unused bits',
    source: certPem({
      extensions: [extension('2.5.29.15', tlv(0x03, Buffer.from([9, 0x80])), true)],
    }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'eku-5000',
    what: '5,000 Extended Key Usage purposes',
    source: certPem({
      extensions: [
        extension(
          '2.5.29.37',
          seq(...Array.from({ length: 5000 }, (_, i) => oid(`1.3.6.1.4.1.99999.4.${i}`))),
        ),
      ],
    }),
    reason: 'Ready',
  },
  // Names
  {
    name: 'name-nul',
    what: 'a NUL byte inside the subject CN',
    source: certPem({ subject: name([[['CN', 'partner\0.example']]]) }),
    reason: 'Ready',
  },
  {
    name: 'name-invalid-utf8',
    what: 'a UTF8String that is not UTF-8',
    source: certPem({
      subject: seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from([0xc3, 0x28]))))),
    }),
    reason: 'InvalidCertificate',
  },
  {
    name: 'name-64k-cn',
    what: 'a 64 KiB subject CN',
    source: certPem({ subject: name([[['CN', 'x'.repeat(64 * 1024)]]]) }),
    reason: 'Ready',
  },
  {
    name: 'name-10000-rdns',
    what: 'a subject of 10,000 RDNs',
    source: certPem({
      subject: name(
        Array.from({ length: 10_000 }, (_, i) => [['OU', `unit-${i}`] as [string, string]]),
      ),
    }),
    reason: 'Ready',
  },
];

/** Whether a case has to go through a Secret: binary, or over the 64 KiB inline limit. */
export const needsSecret = (c: HostileSource): boolean =>
  c.viaSecret === true || typeof c.source !== 'string' || Buffer.byteLength(c.source) > 65_536;
