// The Key Vault emulator from the tests' side: a KeyClient for set-up (importing keys the way
// an administrator would), and its management API for aliases (a proxy's address reaching the
// same vault). Trusts the emulator through NODE_EXTRA_CA_CERTS, as the operator does.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { testenv } from './cluster.ts';

export { importKey } from './vault-keys.ts';

/** Where the vault tests are skipped, the one line that says why and how to run them. */
export const NO_EMULATOR =
  'no Key Vault emulator in this run: set LOWKEY_VAULT_JAR to its jar or LOWKEY_VAULT_SRC to its sources (see README, Test environment)';

export function vaultAdmin(vaultUrl = testenv().vaultUrl!): KeyClient {
  return new KeyClient(vaultUrl, new ManagedIdentityCredential(), {
    disableChallengeResourceVerification: true,
  });
}

/** Makes `aliasUrl` (e.g. a proxy's https://localhost:<port>) reach the emulator's vault. */
export function addVaultAlias(
  aliasUrl: string,
  vaultUrl = testenv().vaultUrl!,
  vaultCaFile = testenv().vaultCaFile!,
): Promise<void> {
  const url = new URL('/management/vault/alias', vaultUrl);
  url.searchParams.set('baseUri', vaultUrl);
  url.searchParams.set('add', aliasUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        ca: readFileSync(vaultCaFile),
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new Error(`alias ${aliasUrl}: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}
