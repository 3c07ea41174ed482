// A tiny DER encoder for building test certificates with exactly the fields a test needs
// (dates in the past or future, any Key Usage, odd names), signed with node:crypto.
import { sign, type KeyObject } from 'node:crypto';

export type Bytes = Uint8Array;

function lengthOctets(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n % 256);
  return [0x80 | out.length, ...out];
}

export function tlv(tag: number, ...contents: Bytes[]): Bytes {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag, ...lengthOctets(body.length)]), body]);
}

export const seq = (...items: Bytes[]): Bytes => tlv(0x30, ...items);
export const set = (...items: Bytes[]): Bytes => tlv(0x31, ...items);
export const explicit = (n: number, inner: Bytes): Bytes => tlv(0xa0 + n, inner);
export const octets = (b: Bytes): Bytes => tlv(0x04, b);
export const utf8 = (s: string): Bytes => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printable = (s: string): Bytes => tlv(0x13, Buffer.from(s, 'latin1'));
export const bool = (v: boolean): Bytes => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const nullValue = (): Bytes => tlv(0x05);

export function integer(value: Bytes): Bytes {
  return tlv(0x02, value);
}

export function oid(dotted: string): Bytes {
  const arcs = dotted.split('.').map(Number);
  const out = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift((n & 0x7f) | (chunk.length ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

export function time(date: Date): Bytes {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(0x17, Buffer.from(iso.slice(2)))
    : tlv(0x18, Buffer.from(iso));
}

/** A BIT STRING of the named bit positions (Key Usage style, trailing zero bits trimmed). */
export function namedBits(bits: number[]): Bytes {
  if (bits.length === 0) return tlv(0x03, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(0x03, Buffer.from([unused]), bytes);
}

const attributeOids: Record<string, string> = {
  CN: '2.5.4.3',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  DC: '0.9.2342.19200300.100.1.25',
};

/** A Name from RDNs in ASN.1 order (most significant first); an RDN may hold several. */
export function name(rdns: [string, string][][]): Bytes {
  return seq(
    ...rdns.map((rdn) =>
      set(
        ...rdn.map(([type, value]) =>
          seq(oid(attributeOids[type] ?? type), type === 'C' ? printable(value) : utf8(value)),
        ),
      ),
    ),
  );
}

const KU_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export interface CertificateOptions {
  subjectKey: KeyObject;
  signingKey: KeyObject;
  subject?: Bytes;
  issuer?: Bytes;
  serial?: Bytes;
  notBefore?: Date;
  notAfter?: Date;
  keyUsage?: string[];
  extendedKeyUsage?: string[];
  /** Extra extensions, already encoded (see `extension`). */
  extensions?: Bytes[];
  /** The Validity SEQUENCE as given (odd time encodings); overrides notBefore/notAfter. */
  validity?: Bytes;
}

/** One Extension: SEQUENCE { extnID, critical (only when true), extnValue }. */
export function extension(id: string, value: Bytes, critical = false): Bytes {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

function signatureAlgorithm(key: KeyObject): { alg: Bytes; digest: string | null } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { alg: seq(oid('1.2.840.113549.1.1.11'), nullValue()), digest: 'sha256' };
    case 'ec':
      return { alg: seq(oid('1.2.840.10045.4.3.2')), digest: 'sha256' };
    case 'ed25519':
      return { alg: seq(oid('1.3.101.112')), digest: null };
    default:
      throw new Error(`no signature algorithm for ${key.asymmetricKeyType}`);
  }
}

const DAY = 86_400_000;

/** Builds and signs an X.509 v3 certificate; returns its DER. */
export function buildCertificate(options: CertificateOptions): Buffer {
  const subject = options.subject ?? name([[['CN', 'test.example']]]);
  const { alg, digest } = signatureAlgorithm(options.signingKey);
  const extensions: Bytes[] = [];
  if (options.keyUsage) {
    const bits = options.keyUsage.map((u) => KU_BITS.indexOf(u));
    extensions.push(seq(oid('2.5.29.15'), bool(true), octets(namedBits(bits))));
  }
  if (options.extendedKeyUsage) {
    extensions.push(seq(oid('2.5.29.37'), octets(seq(...options.extendedKeyUsage.map(oid)))));
  }
  extensions.push(...(options.extensions ?? []));
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(options.serial ?? Buffer.from([0x01, 0x23, 0x45])),
    alg,
    options.issuer ?? subject,
    options.validity ??
      seq(
        time(options.notBefore ?? new Date(Date.now() - DAY)),
        time(options.notAfter ?? new Date(Date.now() + 365 * DAY)),
      ),
    subject,
    options.subjectKey.export({ type: 'spki', format: 'der' }),
    ...(extensions.length ? [explicit(3, seq(...extensions))] : []),
  );
  const signature = sign(digest, tbs, options.signingKey);
  return Buffer.from(seq(tbs, alg, tlv(0x03, Buffer.from([0]), signature)));
}

export function pem(der: Bytes, label = 'CERTIFICATE'): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
