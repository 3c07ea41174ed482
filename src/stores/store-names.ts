// Names the store derives from a Certificate's and an account's names, made to always fit:
// object names are at most 253 characters, label values at most 63. A name that fits is used
// as is; a longer one is shortened to a prefix plus a hash of the whole name, so two long
// names with the same prefix still differ.
import { createHash } from 'node:crypto';

const SECRET_SUFFIX = '-b2bcert';
const MAX_OBJECT_NAME = 253;
const MAX_LABEL_VALUE = 63;
const HASH_LENGTH = 10;

const shortHash = (name: string): string =>
  createHash('sha256').update(name).digest('hex').slice(0, HASH_LENGTH);

/** `name` cut to `length`, ending on a letter or digit (what names and label values end with). */
const prefixOf = (name: string, length: number): string =>
  name.slice(0, length).replace(/[^a-z0-9A-Z]+$/, '');

/** `<name>-b2bcert`, or `<prefix>-<hash>-b2bcert` when that would exceed 253 characters. */
export function secretNameFor(certificateName: string): string {
  const name = `${certificateName}${SECRET_SUFFIX}`;
  if (name.length <= MAX_OBJECT_NAME) return name;
  const room = MAX_OBJECT_NAME - SECRET_SUFFIX.length - HASH_LENGTH - 1;
  return `${prefixOf(certificateName, room)}-${shortHash(certificateName)}${SECRET_SUFFIX}`;
}

/** The name itself as a label value, or `<prefix>-<hash>` when it exceeds 63 characters. */
export function labelValueFor(name: string): string {
  if (name.length <= MAX_LABEL_VALUE) return name;
  const room = MAX_LABEL_VALUE - HASH_LENGTH - 1;
  return `${prefixOf(name, room)}-${shortHash(name)}`;
}
