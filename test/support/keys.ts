// Key pairs for tests, generated once per process (RSA generation is slow-ish).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

const cache = new Map<string, KeyPair>();

export function keyPair(
  kind: 'rsa2048' | 'rsa3072' | 'ec256' | 'ec384' | 'ed25519',
  slot = 0,
): KeyPair {
  const id = `${kind}/${slot}`;
  let pair = cache.get(id);
  if (!pair) {
    if (kind === 'rsa2048') pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    else if (kind === 'rsa3072') pair = generateKeyPairSync('rsa', { modulusLength: 3072 });
    else if (kind === 'ec256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    else if (kind === 'ec384') pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    else pair = generateKeyPairSync('ed25519');
    cache.set(id, pair);
  }
  return pair;
}
