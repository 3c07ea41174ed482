// `b2b import azure`'s pure part: ARM entries to manifests (names, Public and Private, the
// account with its vaults, marked entries), and the plan checked as `b2b validate` checks it.
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadCrds } from '../../../src/cli/crd-schema.ts';
import {
  kubernetesLabel,
  kubernetesName,
  planImport,
  validatePlan,
  vaultUrlFromId,
  type AzureAccount,
  type AzureEntry,
  type ImportOptions,
} from '../../../src/cli/import-azure.ts';
import { main, type Io } from '../../../src/cli/main.ts';
import { validateObjects } from '../../../src/cli/validate.ts';
import { privateUsable, selfSigned } from '../../support/certs.ts';

const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const ACCOUNT_ID = `/subscriptions/${SUB}/resourceGroups/b2b-rg/providers/Microsoft.Logic/integrationAccounts/Contoso_IA`;
const VAULT_ID = `/subscriptions/${SUB}/resourcegroups/b2b-rg/providers/microsoft.keyvault/vaults/contoso-kv`;
const account: AzureAccount = {
  id: ACCOUNT_ID,
  subscriptionId: SUB,
  resourceGroup: 'b2b-rg',
  name: 'Contoso_IA',
  location: 'westeurope',
  sku: 'Standard',
};
const options: ImportOptions = {
  namespace: 'b2b',
  cloud: 'AzurePublic',
  auth: 'workloadIdentity',
  deletionPolicy: 'Retain',
  vaultUrls: new Map([[VAULT_ID.toLowerCase(), 'https://contoso-kv.vault.azure.net/']]),
};
const now = new Date();

const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
const signing = privateUsable();
const entry = (name: string, properties: AzureEntry['properties']): AzureEntry => ({
  id: `${ACCOUNT_ID}/certificates/${name}`,
  name,
  properties,
});
const publicEntry = entry('fabrikam', {
  publicCertificate: partner.der.toString('base64'),
  metadata: { partner: 'fabrikam' },
});
const privateEntry = entry('Contoso_Signing', {
  publicCertificate: signing.der.toString('base64'),
  key: { keyVault: { id: VAULT_ID }, keyName: 'contoso-signing', keyVersion: 'abc123' },
});
const derOfPem = (pem: string) =>
  Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');

describe('kubernetesName', () => {
  it('keeps a valid name, lower-cases case-only differences, and hashes what needs more', () => {
    expect(kubernetesName('fabrikam-as2')).toBe('fabrikam-as2');
    expect(kubernetesName('Fabrikam')).toBe('fabrikam');
    const odd = kubernetesName('Contoso_Signing (2024)');
    expect(odd).toMatch(/^contoso-signing-2024-[0-9a-f]{6}$/);
    expect(kubernetesName('Contoso_Signing (2024)')).toBe(odd);
    // a_b and a-b are both valid Azure names: they must not meet
    expect(kubernetesName('a_b')).not.toBe(kubernetesName('a-b'));
    expect(kubernetesName('(((')).toMatch(/^certificate-[0-9a-f]{6}$/);
    expect(kubernetesName('ends.')).toMatch(/^ends-[0-9a-f]{6}$/);
    expect(kubernetesLabel('Contoso.KV')).toMatch(/^contoso-kv-[0-9a-f]{6}$/);
  });
});

describe('planImport', () => {
  it('maps a Public entry to a Certificate whose inline PEM is the entry’s DER', () => {
    const plan = planImport(account, [publicEntry], options);
    expect(plan.certificates).toHaveLength(1);
    const c = plan.certificates[0]!;
    expect(c).toMatchObject({ namespace: 'b2b', name: 'fabrikam', type: 'Public', marked: false });
    expect(c.manifest.spec).toMatchObject({
      integrationAccount: { name: kubernetesName('Contoso_IA') },
      type: 'Public',
      metadata: { partner: 'fabrikam' },
      deletionPolicy: 'Retain',
    });
    expect(c.manifest.spec.key).toBeUndefined();
    expect(c.manifest.spec.azureName).toBeUndefined();
    expect(derOfPem(c.manifest.spec.certificate.inline!).equals(partner.der)).toBe(true);
    expect(c.thumbprint).toMatch(/^[0-9A-F]{40}$/);
  });

  it('maps a Private entry to a Certificate with its key in a vault of the account', () => {
    const plan = planImport(account, [privateEntry], options);
    const c = plan.certificates[0]!;
    expect(c.name).toBe(kubernetesName('Contoso_Signing'));
    expect(c.name).not.toBe('Contoso_Signing');
    expect(c.manifest.spec).toMatchObject({
      type: 'Private',
      azureName: 'Contoso_Signing',
      key: { vault: 'contoso-kv', name: 'contoso-signing', version: 'abc123' },
    });
    expect(plan.accounts).toHaveLength(1);
    expect(plan.accounts[0]).toMatchObject({
      metadata: { name: kubernetesName('Contoso_IA'), namespace: 'b2b' },
      spec: {
        sku: 'Standard',
        location: 'westeurope',
        store: {
          azure: {
            subscriptionId: SUB,
            resourceGroup: 'b2b-rg',
            name: 'Contoso_IA',
            cloud: 'AzurePublic',
            auth: { workloadIdentity: {} },
          },
        },
        keyVaults: [
          {
            name: 'contoso-kv',
            azure: {
              vaultUrl: 'https://contoso-kv.vault.azure.net/',
              resourceId: VAULT_ID,
              auth: { workloadIdentity: {} },
            },
          },
        ],
      },
    });
    expect(plan.notes).toEqual([]);
  });

  it('derives a vault URL it could not read from the vault’s name and cloud, and says so', () => {
    const plan = planImport(account, [privateEntry], {
      ...options,
      cloud: 'AzureChina',
      vaultUrls: new Map(),
    });
    expect(plan.accounts[0]!.spec.keyVaults![0]!.azure!.vaultUrl).toBe(
      'https://contoso-kv.vault.azure.cn/',
    );
    expect(plan.notes.join('\n')).toContain('key vault contoso-kv: its URL was not readable');
    expect(vaultUrlFromId(VAULT_ID.replace('vaults/', 'managedHSMs/'), 'AzurePublic')).toBe(
      undefined,
    );
  });

  it('keeps the namespace/name of an entry the operator marked, with the account in that namespace', () => {
    const marked = entry('partner-x', {
      publicCertificate: partner.der.toString('base64'),
      metadata: {
        b2bOperator: { certificate: 'edi/partner-x', uid: 'u-1', contentHash: 'h' },
        partner: 'x',
      },
    });
    const plan = planImport(account, [marked], options);
    expect(plan.certificates[0]).toMatchObject({
      namespace: 'edi',
      name: 'partner-x',
      marked: true,
    });
    // the marker is the operator's, not user metadata
    expect(plan.certificates[0]!.manifest.spec.metadata).toEqual({ partner: 'x' });
    expect(plan.accounts.map((a) => a.metadata.namespace)).toEqual(['edi']);
  });

  it('skips what is not a certificate or has no usable key reference, and a second claim on one name', () => {
    const plan = planImport(
      account,
      [
        entry('broken', { publicCertificate: 'bm90IGEgY2VydA==' }),
        entry('no-vault', {
          publicCertificate: signing.der.toString('base64'),
          key: { keyVault: {}, keyName: 'k' },
        }),
        entry('Twin', { publicCertificate: partner.der.toString('base64') }),
        entry('twin', { publicCertificate: partner.der.toString('base64') }),
      ],
      options,
    );
    expect(plan.skipped.map((s) => [s.azureName, s.reason])).toEqual([
      ['broken', 'InvalidCertificate'],
      ['no-vault', 'InvalidKeyReference'],
      ['Twin', 'DuplicateName'],
    ]);
    expect(plan.certificates.map((c) => c.azureName)).toEqual(['twin']);
  });

  it('carries non-string metadata as JSON text with a note', () => {
    const plan = planImport(
      account,
      [entry('n', { publicCertificate: partner.der.toString('base64'), metadata: { level: 3 } })],
      options,
    );
    expect(plan.certificates[0]!.manifest.spec.metadata).toEqual({ level: '3' });
    expect(plan.notes[0]).toContain('metadata level is not a string');
  });
});

describe('validatePlan', () => {
  it('produces manifests that b2b validate accepts, also after a YAML round trip', () => {
    const plan = validatePlan(
      planImport(account, [publicEntry, privateEntry], options),
      loadCrds(),
      now,
    );
    expect(plan.skipped).toEqual([]);
    const objects = [...plan.accounts, ...plan.certificates.map((c) => c.manifest)];
    const reparsed = objects.map((o) => parse(stringify(o)) as Record<string, unknown>);
    const results = validateObjects(
      reparsed.map((object) => ({ file: 'x', line: 1, object })),
      loadCrds(),
      { now, warnExpiringMs: undefined, allowedVaultHosts: [], namespace: 'b2b' },
    );
    expect(results.map((r) => [r.kind, r.level])).toEqual([
      ['IntegrationAccount', 'pass'],
      ['Certificate', 'pass'],
      ['Certificate', 'pass'],
    ]);
  });

  it('leaves out entries the operator would refuse, with its reason', () => {
    const expired = selfSigned('rsa2048', {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const noEncipherment = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] }, 1);
    const plan = validatePlan(
      planImport(
        account,
        [
          publicEntry,
          entry('old', { publicCertificate: expired.der.toString('base64') }),
          entry('signer', {
            publicCertificate: noEncipherment.der.toString('base64'),
            key: { keyVault: { id: VAULT_ID }, keyName: 'signer', keyVersion: 'v1' },
          }),
        ],
        options,
      ),
      loadCrds(),
      now,
    );
    expect(plan.certificates.map((c) => c.name)).toEqual(['fabrikam']);
    expect(plan.skipped.map((s) => [s.azureName, s.reason])).toEqual([
      ['old', 'CertificateExpired'],
      ['signer', 'MissingDataEncipherment'],
    ]);
  });
});

describe('b2b import usage', () => {
  async function run(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const io: Io = {
      argv,
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      stdin: () => Buffer.alloc(0),
      env: {},
      cwd: '/',
      now: () => now,
    };
    return { code: await main(io), stdout, stderr };
  }

  it('exits 2 with a clear line for what is not an account to import', async () => {
    const cases: [string[], string][] = [
      [['import'], 'b2b import azure'],
      [['import', 'azure'], '--subscription, --resource-group and --name'],
      [
        ['import', 'azure', '/subscriptions/x/resourceGroups/y'],
        "not an integration account's resource ID",
      ],
      [['import', 'azure', ACCOUNT_ID, '--name', 'x'], 'not both'],
      [['import', 'azure', ACCOUNT_ID, '-o', 'xml'], '-o must be yaml or json'],
      [['import', 'azure', ACCOUNT_ID, '--cloud', 'Mars'], '--cloud must be one of'],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const help = await run(['import', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--azure-arm-endpoint');
  });
});
