// X.501 Name -> RFC 4514 string, e.g. CN=fabrikam.example,O=Fabrikam.
import {
  DerError,
  Tag,
  decodeOid,
  decodeString,
  expectTag,
  readChildren,
  toHex,
  type DerElement,
} from './der.ts';

/** RFC 4514's table plus the attributes certificates commonly carry. */
const attributeNames: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '2.5.4.5': 'serialNumber',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** Escapes an attribute value as RFC 4514 section 2.4 requires. */
export function escapeAttributeValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (',+"\\<>;'.includes(ch)) out += `\\${ch}`;
    else if (ch === '\0') out += '\\00';
    else if (i === 0 && (ch === '#' || ch === ' ')) out += `\\${ch}`;
    else if (i === value.length - 1 && ch === ' ') out += '\\ ';
    else out += ch;
  }
  return out;
}

function formatAttribute(attribute: DerElement): string {
  const [typeEl, valueEl] = readChildren(
    expectTag(attribute, Tag.Sequence, 'name attribute').value,
  );
  const oid = decodeOid(expectTag(typeEl, Tag.Oid, 'attribute type').value);
  if (!valueEl) throw new DerError('name attribute has no value');
  const name = attributeNames[oid];
  const text = decodeString(valueEl);
  // Unknown types, or values that are not strings, use the dotted OID and the hex of the DER.
  if (name === undefined || text === undefined) {
    const der = readElementBytes(valueEl);
    return `${oid}=#${toHex(der)}`;
  }
  return `${name}=${escapeAttributeValue(text)}`;
}

function readElementBytes(el: DerElement): Uint8Array {
  // Re-encode tag and length: the value's header is not kept by readElement.
  const len = el.value.length;
  const header =
    len < 0x80
      ? [el.tag, len]
      : [el.tag, 0x80 | byteLength(len), ...bigEndian(len, byteLength(len))];
  return Uint8Array.from([...header, ...el.value]);
}

function byteLength(n: number): number {
  let bytes = 1;
  while (n >= 256 ** bytes) bytes++;
  return bytes;
}

function bigEndian(n: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(n / 256 ** i) % 256);
  return out;
}

/** Formats a DER Name (SEQUENCE OF RDN) as RFC 4514: RDNs in reverse order, `+` within one. */
export function formatName(name: DerElement): string {
  const rdns = readChildren(expectTag(name, Tag.Sequence, 'name').value);
  return rdns
    .map((rdn) =>
      readChildren(expectTag(rdn, Tag.Set, 'relative distinguished name').value)
        .map(formatAttribute)
        .join('+'),
    )
    .reverse()
    .join(',');
}
