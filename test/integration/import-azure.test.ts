// `b2b import azure` as users run it (bin/b2b.js, its own process) against the ARM test server,
// signed in with @azure/identity's environment credential (a service principal) at the test
// token endpoint (test/support/oidc.ts): its output validates, round-trips to the Azure entries'
// DER, and the API server accepts it (server-side apply, twice); it only reads Azure; and the
// failures a user meets (not signed in, 403, 404, an entry the operator would refuse) each
// come as one line that says what to do.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Certificate } from '../../src/api/types.ts';
import { kubernetesName } from '../../src/cli/import-azure.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace } from '../support/cluster.ts';
import { kubectl, repoRoot, succeeded } from '../support/kubectl.ts';
import { OidcTokenEndpoint } from '../support/oidc.ts';

const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';
const VAULT_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/contoso-kv`;
const VAULT_URL = 'https://contoso-kv.vault.azure.net/';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('b2b import azure (against the ARM test server)', () => {
  let admin: KubeClient;
  let ns: string;
  let arm: ArmTestServer;
  const oidc = new OidcTokenEndpoint();
  let accountId: string;
  let dir: string;
  let caFile: string;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const signing = privateUsable();
  const other = selfSigned('ec256', {}, 1);

  /** The CLI signed in as a service principal through the environment, unless `env` says otherwise. */
  function b2b(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [join(repoRoot, 'bin/b2b.js'), ...args],
        {
          cwd: dir,
          timeout: 120_000,
          maxBuffer: 16 * 1024 * 1024,
          env: {
            PATH: process.env.PATH,
            // no Azure CLI, azd or VS Code sign-in of the machine's user
            HOME: dir,
            NODE_EXTRA_CA_CERTS: caFile,
            // a managed-identity endpoint that refuses at once (no IMDS here)
            AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:9',
            AZURE_AUTHORITY_HOST: oidc.authorityHost,
            AZURE_TENANT_ID: 'import-tenant',
            AZURE_CLIENT_ID: 'import-client',
            AZURE_CLIENT_SECRET: 'import-secret',
            B2B_AZURE_ARM_ENDPOINT: arm.url,
            ...env,
          },
        },
        (err, stdout, stderr) =>
          resolve({
            code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
            stdout,
            stderr,
          }),
      );
      if (input !== undefined) child.stdin!.end(input);
    });
  }

  const documents = (yaml: string) =>
    parseAllDocuments(yaml).map((d) => d.toJS() as Record<string, unknown>);
  const derOfPem = (pem: string) =>
    Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'import');
    dir = mkdtempSync(join(tmpdir(), 'b2b-import-'));
    arm = await new ArmTestServer().start();
    await oidc.start();
    // The CLI's tokens come from the test token endpoint, not from the ARM server's IMDS.
    arm.acceptForeignTokens = true;
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, `${readFileSync(arm.caFile, 'utf8')}\n${oidc.certificatePem}`);
    accountId = arm.addAccount(SUB, RG, 'Contoso_IA', 'Standard');
    arm.addVault({
      id: VAULT_ID,
      tenantId: 'import-tenant',
      vaultUri: VAULT_URL,
      enableRbacAuthorization: true,
      accessPolicies: [],
      listedKeys: ['contoso-signing'],
    });
    // As the portal leaves them: a Public and a Private entry, and one the operator once wrote.
    arm.putForeign(accountId, 'fabrikam', {
      properties: {
        publicCertificate: partner.der.toString('base64'),
        metadata: { partner: 'fabrikam' },
        createdTime: '2026-01-01T00:00:00Z',
        changedTime: '2026-01-01T00:00:00Z',
      },
    });
    arm.putForeign(accountId, 'Contoso_Signing', {
      properties: {
        publicCertificate: signing.der.toString('base64'),
        key: {
          keyVault: {
            id: VAULT_ID.toLowerCase(),
            name: 'contoso-kv',
            type: 'Microsoft.KeyVault/vaults',
          },
          keyName: 'contoso-signing',
          keyVersion: '0123456789abcdef0123456789abcdef',
        },
      },
    });
    arm.putForeign(accountId, 'partner-x', {
      properties: {
        publicCertificate: other.der.toString('base64'),
        metadata: { b2bOperator: { certificate: `${ns}/partner-x-renamed`, uid: 'old-uid' } },
      },
    });
  });

  afterEach(() => {
    expect(arm.invalidBodies).toEqual([]);
  });

  afterAll(async () => {
    await arm?.stop();
    await oidc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes manifests that b2b validate accepts, that hold the Azure entries’ DER, and that the API server accepts twice, reading Azure only', async () => {
    const result = await b2b(['import', 'azure', accountId, '-n', ns]);
    expect(result.stderr).toContain('imported 3 certificates (2 Public, 1 Private)');
    expect(result.code).toBe(0);

    // Signed in through the environment credential at the token endpoint, ARM token scope.
    const tokenRequest = oidc.requests.find((r) => r.form.client_id === 'import-client');
    expect(tokenRequest).toMatchObject({
      tenant: 'import-tenant',
      form: { grant_type: 'client_credentials', scope: 'https://management.azure.com/.default' },
    });
    const issued = new Set(oidc.requests.map((r) => r.accessToken));
    expect([...arm.seenTokens].every((t) => issued.has(t))).toBe(true);
    // Only reads; the certificate list was paged (2 per page here).
    expect(arm.calls.length).toBeGreaterThan(0);
    expect(arm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(arm.calls.filter((c) => c.path.endsWith('/certificates')).length).toBe(2);

    const objects = documents(result.stdout);
    const certificates = objects.filter(
      (o) => o.kind === 'Certificate',
    ) as unknown as Certificate[];
    expect(objects.filter((o) => o.kind === 'IntegrationAccount')).toHaveLength(1);
    expect(certificates.map((c) => `${c.metadata.namespace}/${c.metadata.name}`).sort()).toEqual(
      [
        `${ns}/${kubernetesName('Contoso_Signing')}`,
        `${ns}/fabrikam`,
        `${ns}/partner-x-renamed`,
      ].sort(),
    );
    // Round trip: each inline PEM is exactly the DER Azure holds.
    for (const c of certificates) {
      const azureName = c.spec.azureName ?? c.metadata.name;
      const stored = arm.certificate(accountId, azureName) as {
        properties: { publicCertificate: string };
      };
      expect(derOfPem(c.spec.certificate.inline!).toString('base64')).toBe(
        stored.properties.publicCertificate,
      );
    }
    const privateOne = certificates.find((c) => c.spec.type === 'Private')!;
    expect(privateOne.spec).toMatchObject({
      azureName: 'Contoso_Signing',
      key: {
        vault: 'contoso-kv',
        name: 'contoso-signing',
        version: '0123456789abcdef0123456789abcdef',
      },
    });
    const account = objects.find((o) => o.kind === 'IntegrationAccount');
    expect(account).toMatchObject({
      spec: {
        store: { azure: { subscriptionId: SUB, resourceGroup: RG, name: 'Contoso_IA' } },
        keyVaults: [
          {
            name: 'contoso-kv',
            azure: { vaultUrl: VAULT_URL, resourceId: VAULT_ID.toLowerCase() },
          },
        ],
      },
    });

    const validated = await b2b(['validate', '-f', '-'], {}, result.stdout);
    expect(validated.stdout).toContain('4 objects: 4 ok, 0 failed');
    expect(validated.code).toBe(0);

    for (let i = 0; i < 2; i++) {
      const applied = succeeded(
        await kubectl(['apply', '--server-side', '-f', '-'], result.stdout),
      );
      expect(applied.trim().split('\n')).toHaveLength(4);
    }
    const listed = JSON.parse(
      succeeded(await kubectl(['get', 'certificates.integration.b2b.dev', '-n', ns, '-o', 'json'])),
    ) as { items: Certificate[] };
    expect(listed.items).toHaveLength(3);
    const fabrikam = listed.items.find((c) => c.metadata.name === 'fabrikam')!;
    expect(derOfPem(fabrikam.spec.certificate.inline!).equals(partner.der)).toBe(true);
  });

  it('lists with --dry-run, writes JSON and one file per object with --output-dir', async () => {
    const dry = await b2b([
      'import',
      'azure',
      '--subscription',
      SUB,
      '--resource-group',
      RG,
      '--name',
      'Contoso_IA',
      '-n',
      ns,
      '--dry-run',
    ]);
    expect(dry.code).toBe(0);
    const lines = dry.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+AZURE NAME\s+TYPE\s+THUMBPRINT\s+EXPIRES$/);
    const fabrikamRow = lines.find((l) => l.startsWith(`${ns}/fabrikam `))!;
    expect(fabrikamRow).toContain('Public');
    expect(fabrikamRow).toMatch(/[0-9A-F]{40}/);
    expect(lines.some((l) => l.includes('(marked)') && l.includes('partner-x'))).toBe(true);
    expect(dry.stdout).not.toContain('BEGIN CERTIFICATE');

    const json = await b2b(['import', 'azure', accountId, '-n', ns, '-o', 'json']);
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as { kind: string; items: unknown[] };
    expect(list.kind).toBe('List');
    expect(list.items).toHaveLength(4);

    const out = await b2b(['import', 'azure', accountId, '-n', ns, '--output-dir', 'manifests']);
    expect(out.code).toBe(0);
    const files = readdirSync(join(dir, 'manifests', ns)).sort();
    expect(files).toEqual(
      [
        `certificate-${kubernetesName('Contoso_Signing')}.yaml`,
        'certificate-fabrikam.yaml',
        'certificate-partner-x-renamed.yaml',
        `integrationaccount-${kubernetesName('Contoso_IA')}.yaml`,
      ].sort(),
    );
    const validated = await b2b(['validate', '-f', 'manifests']);
    expect(validated.code).toBe(0);
  });

  it('says in one line what to do when not signed in, when ARM refuses (403) and when the account does not exist (404)', async () => {
    const notSignedIn = await b2b(['import', 'azure', accountId], {
      AZURE_TENANT_ID: '',
      AZURE_CLIENT_ID: '',
      AZURE_CLIENT_SECRET: '',
    });
    expect(notSignedIn.code).toBe(1);
    expect(notSignedIn.stdout).toBe('');
    expect(notSignedIn.stderr.trim().split('\n')).toHaveLength(1);
    expect(notSignedIn.stderr).toContain('not signed in to Azure: run `az login`');

    arm.denied.add('Microsoft.Logic/integrationAccounts/certificates/read');
    const denied = await b2b(['import', 'azure', accountId]);
    arm.denied.delete('Microsoft.Logic/integrationAccounts/certificates/read');
    expect(denied.code).toBe(1);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(denied.stderr).toContain(
      'may not perform Microsoft.Logic/integrationAccounts/certificates/read',
    );
    expect(denied.stderr).toContain('Reader role');

    const missing = await b2b(['import', 'azure', accountId.replace('Contoso_IA', 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain(
      `integration account nope in resource group ${RG} of subscription ${SUB} not found (ARM 404`,
    );
    // The secret of the service principal is never printed.
    for (const r of [notSignedIn, denied, missing]) expect(r.stderr).not.toContain('import-secret');
  });

  it('leaves out an entry the operator would refuse, names it, and exits 1 with the others written', async () => {
    const expired = selfSigned('rsa2048', {
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const skippedAccount = arm.addAccount(SUB, RG, 'old-ia', 'Free');
    arm.putForeign(skippedAccount, 'expired', {
      properties: { publicCertificate: expired.der.toString('base64') },
    });
    arm.putForeign(skippedAccount, 'fabrikam', {
      properties: { publicCertificate: partner.der.toString('base64') },
    });
    const result = await b2b(['import', 'azure', skippedAccount, '-n', ns]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('skipped: certificate expired: CertificateExpired');
    const objects = documents(result.stdout);
    expect(
      objects.map((o) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`),
    ).toEqual(['IntegrationAccount/old-ia', 'Certificate/fabrikam']);
  });
});
