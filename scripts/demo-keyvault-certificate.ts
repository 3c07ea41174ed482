// For `make demo`: a Key Vault certificate that Key Vault renews by itself, in the test
// environment's Key Vault emulator ($B2B_TEST_VAULT_URL), and the emulator's clock moved on so
// that the renewal falls due, as months passing would in Azure.
// Usage: node scripts/demo-keyvault-certificate.ts create NAME   (prints the latest version)
//        node scripts/demo-keyvault-certificate.ts renew NAME    (prints the new version)
import { ManagedIdentityCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';

const [command, name] = process.argv.slice(2);
const vaultUrl = process.env.B2B_TEST_VAULT_URL;
if (!name || !vaultUrl || (command !== 'create' && command !== 'renew')) {
  console.error(
    'usage: B2B_TEST_VAULT_URL=... node scripts/demo-keyvault-certificate.ts create|renew NAME',
  );
  process.exit(2);
}
const DAY_S = 86_400;
// The emulator's challenge names its own host, which the SDK's check would refuse.
const client = new CertificateClient(vaultUrl, new ManagedIdentityCredential(), {
  disableChallengeResourceVerification: true,
});

async function latestVersion(): Promise<string | undefined> {
  try {
    return (await client.getCertificate(name!)).properties.version;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

if (command === 'create') {
  // The policy a B2B certificate needs (docs/renewals.md), with a month's validity so that one
  // AutoRenew falls due after a few days: 27 days before expiry.
  const existing = await latestVersion();
  if (existing) {
    console.log(existing);
  } else {
    const poller = await client.beginCreateCertificate(name, {
      issuerName: 'Self',
      subject: `CN=${name}.contoso.example, O=Contoso`,
      contentType: 'application/x-pkcs12',
      keyType: 'RSA',
      keySize: 2048,
      reuseKey: false,
      keyUsage: ['digitalSignature', 'keyEncipherment', 'dataEncipherment'],
      validityInMonths: 1,
      lifetimeActions: [{ action: 'AutoRenew', daysBeforeExpiry: 27 }],
    });
    console.log((await poller.pollUntilDone()).properties.version);
  }
} else {
  // The emulator's management API moves this vault's clock 5 days on; it then makes the
  // AutoRenew renewals that fell due meanwhile, as Key Vault would have.
  const before = await latestVersion();
  const url = new URL('/management/vault/time', vaultUrl);
  url.searchParams.set('baseUri', vaultUrl);
  url.searchParams.set('seconds', String(5 * DAY_S));
  const res = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw new Error(`time shift: ${res.status} ${await res.text()}`);
  const after = await latestVersion();
  if (!after || after === before) throw new Error(`no new version of ${name} after the time shift`);
  console.log(after);
}
