// Proves the Key Vault side of the harness: an RSA key imported into Lowkey Vault and read
// back with @azure/keyvault-keys, authenticated by ManagedIdentityCredential against the
// emulator's token endpoint, TLS verified through NODE_EXTRA_CA_CERTS. Skipped (and said so)
// where the emulator's jar is not available: see README, "Test environment".
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { describe, expect, it } from 'vitest';
import { keyPair } from '../support/keys.ts';
import { testenv } from '../support/cluster.ts';
import { importKey } from '../support/vault-keys.ts';

const { vaultUrl } = testenv();

describe.skipIf(!vaultUrl)('Key Vault emulator (Lowkey Vault)', () => {
  it('imports an RSA key and gets it back through the managed-identity credential', async () => {
    const client = new KeyClient(vaultUrl!, new ManagedIdentityCredential(), {
      disableChallengeResourceVerification: true,
    });
    const jwk = keyPair('rsa2048', 21).publicKey.export({ format: 'jwk' });
    const name = `harness-${Date.now()}`;
    await importKey(client, name, keyPair('rsa2048', 21).privateKey);
    const got = await client.getKey(name);
    // Lowkey Vault encodes n as a Java BigInteger: a leading 0x00 byte (its README, not Azure's way).
    const n = Buffer.from(got.key?.n ?? new Uint8Array());
    expect((n[0] === 0 ? n.subarray(1) : n).toString('base64url')).toBe(jwk.n);
    expect(got.key?.d).toBeUndefined(); // the private part never comes back
  });
});
