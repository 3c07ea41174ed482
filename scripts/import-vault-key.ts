// Imports a PEM private key into the test environment's Key Vault emulator
// ($B2B_TEST_VAULT_URL), as an administrator would with `az keyvault key import`.
// Usage: node scripts/import-vault-key.ts KEY.pem NAME   (prints the key id)
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { importKey } from '../test/support/vault-keys.ts';

const [file, name] = process.argv.slice(2);
const vaultUrl = process.env.B2B_TEST_VAULT_URL;
if (!file || !name || !vaultUrl) {
  console.error('usage: B2B_TEST_VAULT_URL=... node scripts/import-vault-key.ts KEY.pem NAME');
  process.exit(2);
}
// The emulator's challenge names its own host, which the SDK's check would refuse.
const client = new KeyClient(vaultUrl, new ManagedIdentityCredential(), {
  disableChallengeResourceVerification: true,
});
const key = await importKey(client, name, createPrivateKey(readFileSync(file)));
console.log(key.id);
