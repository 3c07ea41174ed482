// A minimal, strict DER reader: just enough of X.690 to walk an X.509 certificate. Every read
// is bounds-checked and throws DerError, so malformed input becomes a verdict, not a crash.

export class DerError extends Error {}

export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  /** The contents octets. */
  value: Uint8Array;
  /** Offset just past this element in the buffer it was read from. */
  end: number;
}

export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  TeletexString: 0x14,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  UniversalString: 0x1c,
  BmpString: 0x1e,
  Sequence: 0x30,
  Set: 0x31,
} as const;

/** Reads the element starting at `offset`; the element must end within `limit`. */
export function readElement(buf: Uint8Array, offset = 0, limit = buf.length): DerElement {
  if (offset + 2 > limit) throw new DerError(`truncated DER: element header at byte ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported high tag number at byte ${offset}`);
  let length = buf[offset + 1]!;
  let pos = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0) throw new DerError(`indefinite length at byte ${offset} is not DER`);
    if (octets > 4) throw new DerError(`length of ${octets} octets at byte ${offset} is too large`);
    if (pos + octets > limit) throw new DerError(`truncated DER: length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + buf[pos + i]!;
    pos += octets;
  }
  const end = pos + length;
  if (end > limit) {
    throw new DerError(
      `truncated DER: element at byte ${offset} declares ${length} bytes, ${limit - pos} remain`,
    );
  }
  return { tag, value: buf.subarray(pos, end), end };
}

/** The elements inside a constructed element's contents. */
export function readChildren(value: Uint8Array): DerElement[] {
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < value.length) {
    const child = readElement(value, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function expectTag(el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!el) throw new DerError(`${what} is missing`);
  if (el.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${hex2(tag)}, found 0x${hex2(el.tag)}`);
  }
  return el;
}

export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let current = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i]!;
    if (current === 0 && byte === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    current = current * 128 + (byte & 0x7f);
    if (current > Number.MAX_SAFE_INTEGER / 128)
      throw new DerError('OBJECT IDENTIFIER arc too large');
    if (!(byte & 0x80)) {
      arcs.push(current);
      current = 0;
    } else if (i === value.length - 1) {
      throw new DerError('truncated OBJECT IDENTIFIER');
    }
  }
  const first = arcs.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .toUpperCase();
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Decodes the ASN.1 string types used in X.501 names; undefined for anything else. */
export function decodeString(el: DerElement): string | undefined {
  const bytes = Buffer.from(el.value.buffer, el.value.byteOffset, el.value.byteLength);
  switch (el.tag) {
    case Tag.Utf8String:
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    case Tag.PrintableString:
    case Tag.Ia5String:
      return bytes.toString('latin1');
    case Tag.TeletexString:
      return bytes.toString('latin1');
    case Tag.BmpString:
      if (bytes.length % 2) throw new DerError('BMPString of odd length');
      return Buffer.from(bytes).swap16().toString('utf16le');
    case Tag.UniversalString: {
      if (bytes.length % 4) throw new DerError('UniversalString length not a multiple of 4');
      let out = '';
      for (let i = 0; i < bytes.length; i += 4) {
        const codePoint = bytes.readUInt32BE(i);
        if (codePoint > 0x10ffff) throw new DerError('UniversalString holds an invalid code point');
        out += String.fromCodePoint(codePoint);
      }
      return out;
    }
    default:
      return undefined;
  }
}
