// Inspection: what a certificate is, in the words and formats of API.md's status fields.
import { X509Certificate, createHash, type KeyObject } from 'node:crypto';
import {
  DerError,
  Tag,
  decodeOid,
  expectTag,
  readChildren,
  readElement,
  toHex,
  type DerElement,
} from './der.ts';
import { formatName } from './names.ts';

/** RFC 5280 section 4.2.1.3, in bit order. */
export const keyUsageNames = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageName = (typeof keyUsageNames)[number];

const extendedKeyUsageNames: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

const OID_KEY_USAGE = '2.5.29.15';
const OID_EXTENDED_KEY_USAGE = '2.5.29.37';

export interface PublicKeyInfo {
  /** RSA, RSA-PSS, EC, Ed25519, Ed448, DSA, or the algorithm Node reports. */
  algorithm: string;
  /** RSA and DSA: modulus bits; EC: curve bits; EdDSA: key bits. */
  size: number;
}

export interface CertificateInfo {
  thumbprint: string;
  sha256Fingerprint: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Undefined when the certificate has no Key Usage extension. */
  keyUsage: KeyUsageName[] | undefined;
  extendedKeyUsage: string[];
  publicKey: PublicKeyInfo;
  publicKeyObject: KeyObject;
  /** The certificate re-encoded as PEM (the form the store keeps). */
  pem: string;
}

const curveBits: Record<string, number> = {
  prime256v1: 256,
  'P-256': 256,
  secp384r1: 384,
  'P-384': 384,
  secp521r1: 521,
  'P-521': 521,
  secp256k1: 256,
  secp224r1: 224,
  prime192v1: 192,
};

export function describePublicKey(key: KeyObject): PublicKeyInfo {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithm: 'RSA', size: details.modulusLength ?? 0 };
    // id-RSASSA-PSS keys are restricted to PSS signatures: they cannot decrypt, so they are not RSA.
    case 'rsa-pss':
      return { algorithm: 'RSA-PSS', size: details.modulusLength ?? 0 };
    case 'ec':
      return { algorithm: 'EC', size: curveBits[details.namedCurve ?? ''] ?? 0 };
    case 'ed25519':
      return { algorithm: 'Ed25519', size: 256 };
    case 'ed448':
      return { algorithm: 'Ed448', size: 456 };
    case 'dsa':
      return { algorithm: 'DSA', size: details.modulusLength ?? 0 };
    default:
      return { algorithm: key.asymmetricKeyType ?? 'unknown', size: 0 };
  }
}

/** The serial as upper-case hex of its value, without a sign-padding 00 byte. */
function formatSerial(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty serial number');
  const unpadded =
    value.length > 1 && value[0] === 0 && value[1]! >= 0x80 ? value.subarray(1) : value;
  return toHex(unpadded);
}

function decodeKeyUsage(extnValue: Uint8Array): KeyUsageName[] {
  const bits = expectTag(readElement(extnValue), Tag.BitString, 'Key Usage');
  const [unused, ...bytes] = bits.value;
  if (unused === undefined || unused > 7) throw new DerError('Key Usage: malformed BIT STRING');
  return keyUsageNames.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

function decodeExtendedKeyUsage(extnValue: Uint8Array): string[] {
  const seq = expectTag(readElement(extnValue), Tag.Sequence, 'Extended Key Usage');
  return readChildren(seq.value).map((el) => {
    const oid = decodeOid(expectTag(el, Tag.Oid, 'key purpose').value);
    return extendedKeyUsageNames[oid] ?? oid;
  });
}

function readExtensions(tbsFields: DerElement[]): Map<string, Uint8Array> {
  const extensions = new Map<string, Uint8Array>();
  const wrapper = tbsFields.find((el) => el.tag === 0xa3);
  if (!wrapper) return extensions;
  const list = expectTag(readElement(wrapper.value), Tag.Sequence, 'extensions');
  for (const ext of readChildren(list.value)) {
    const fields = readChildren(expectTag(ext, Tag.Sequence, 'extension').value);
    const oid = decodeOid(expectTag(fields[0], Tag.Oid, 'extension id').value);
    const value = expectTag(fields[fields.length - 1], Tag.OctetString, `extension ${oid} value`);
    if (extensions.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    extensions.set(oid, value.value);
  }
  return extensions;
}

const TIME_FORMATS = {
  [Tag.UtcTime]: /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/,
  [Tag.GeneralizedTime]: /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/,
} as const;

/**
 * A Time as RFC 5280 section 4.1.2.5 writes it (UTCTime YYMMDDHHMMSSZ, years 50-99 being 19xx;
 * GeneralizedTime YYYYMMDDHHMMSSZ). Read here, not through OpenSSL: Node turns a time OpenSSL
 * cannot read (month 13, February 30) into an arbitrary date instead of an error.
 */
function decodeTime(el: DerElement, field: string): Date {
  const format = TIME_FORMATS[el.tag as keyof typeof TIME_FORMATS];
  const text = Buffer.from(el.value).toString('latin1');
  const m = format?.exec(text);
  if (!m) throw new DerError(`${field} is not a UTCTime or GeneralizedTime as RFC 5280 writes it`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fullYear = el.tag === Tag.UtcTime ? (year < 50 ? 2000 + year : 1900 + year) : year;
  const date = new Date(0);
  date.setUTCFullYear(fullYear, month - 1, day); // years 0-99 stay as written
  date.setUTCHours(hour, minute, second, 0);
  const exact =
    date.getUTCFullYear() === fullYear &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  if (!exact) throw new DerError(`${field} is not a valid time: ${text}`);
  return date;
}

/**
 * Inspects one DER certificate. Throws DerError (or Node's parse error) when it is not one;
 * parseCertificateSource turns that into an InvalidCertificate verdict.
 */
export function inspectCertificate(der: Uint8Array): CertificateInfo {
  const outer = expectTag(readElement(der), Tag.Sequence, 'certificate');
  if (outer.end !== der.length) {
    throw new DerError(`${der.length - outer.end} bytes of trailing data after the certificate`);
  }
  const [tbs] = readChildren(outer.value);
  const fields = readChildren(expectTag(tbs, Tag.Sequence, 'tbsCertificate').value);
  const withoutVersion = fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
  const [serial, , issuer, validity, subject] = withoutVersion;
  const extensions = readExtensions(withoutVersion.slice(6));
  const keyUsageDer = extensions.get(OID_KEY_USAGE);
  const ekuDer = extensions.get(OID_EXTENDED_KEY_USAGE);

  const x509 = new X509Certificate(Buffer.from(der));
  const [notBefore, notAfter] = readChildren(
    expectTag(validity, Tag.Sequence, 'validity').value,
  ).map((el, i) => decodeTime(el, i === 0 ? 'notBefore' : 'notAfter'));
  if (!notBefore || !notAfter) throw new DerError('validity needs notBefore and notAfter');
  const publicKeyObject = x509.publicKey;
  const derBuffer = Buffer.from(der);
  return {
    thumbprint: createHash('sha1').update(derBuffer).digest('hex').toUpperCase(),
    sha256Fingerprint: createHash('sha256').update(derBuffer).digest('hex').toUpperCase(),
    subject: formatName(expectTag(subject, Tag.Sequence, 'subject')),
    issuer: formatName(expectTag(issuer, Tag.Sequence, 'issuer')),
    serialNumber: formatSerial(expectTag(serial, Tag.Integer, 'serial number').value),
    notBefore,
    notAfter,
    keyUsage: keyUsageDer ? decodeKeyUsage(keyUsageDer) : undefined,
    extendedKeyUsage: ekuDer ? decodeExtendedKeyUsage(ekuDer) : [],
    publicKey: describePublicKey(publicKeyObject),
    publicKeyObject,
    pem: toPem(derBuffer),
  };
}

export function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
