// The `b2b` commands that need no cluster, through main() with plain-object I/O: inspect on
// every input form, validate's outputs and exit codes, help and version.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type Io } from '../../../src/cli/main.ts';
import { inspectCertificate } from '../../../src/certificates/inspect.ts';
import { material } from '../../support/certificate-cases.ts';
import { selfSigned } from '../../support/certs.ts';

const root = new URL('../../..', import.meta.url).pathname;
const examples = join(root, 'examples');

async function run(argv: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    argv,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => Buffer.from(stdin),
    env: {},
    cwd: root,
    now: () => new Date(),
  };
  const code = await main(io);
  return { code, stdout, stderr };
}

function tempFile(name: string, data: string | Buffer): string {
  const file = join(mkdtempSync(join(tmpdir(), 'b2b-cli-')), name);
  writeFileSync(file, data);
  return file;
}

describe('b2b inspect', () => {
  const { partner } = material;
  const expected = inspectCertificate(partner.der);

  it.each([
    ['PEM', partner.pem],
    ['DER', partner.der],
    ['base64 DER', partner.der.toString('base64')],
  ] as const)('reads %s and prints the status fields', async (format, data) => {
    const { code, stdout } = await run(['inspect', tempFile('c', data), '-o', 'json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { format: string; status: Record<string, unknown> };
    expect(report.format).toBe(format);
    expect(report.status).toMatchObject({
      thumbprint: expected.thumbprint,
      sha256Fingerprint: expected.sha256Fingerprint,
      subject: 'CN=test.example',
      serialNumber: '012345',
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: [],
      publicKey: { algorithm: 'RSA', size: 2048 },
    });
  });

  it('gives the verdict as Public and as Private, and notes the ignored rest of a bundle', async () => {
    const bundle = partner.pem + selfSigned('ec256').pem;
    const { code, stdout } = await run(['inspect', '-'], bundle);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /format:\s+PEM bundle \(the first certificate is used; 1 more ignored\)/,
    );
    expect(stdout).toMatch(/as Public:\s+OK Valid/);
    expect(stdout).toMatch(/as Private:\s+FAIL MissingDataEncipherment/);
  });

  it('exits 1 for what is not a certificate, and names the reason', async () => {
    const { code, stdout } = await run(['inspect', '-'], material.pastedKeyPem);
    expect(code).toBe(1);
    expect(stdout).toMatch(/as Public:\s+FAIL PrivateKeyInCertificate/);
  });
});

describe('b2b validate', () => {
  it('reads a folder: the failing example fails, exit 1, one line per object', async () => {
    const { code, stdout } = await run(['validate', '-f', examples]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL\s+Certificate b2b\/contoso-signing\s+MissingDataEncipherment: /m);
    expect(stdout).toMatch(/^OK\s+Certificate b2b\/northwind-edi\s+Valid: /m);
    // examples/azure/account.yaml included (make demo's `kubectl apply -f examples/` is not recursive).
    expect(stdout).toMatch(/^OK\s+IntegrationAccount b2b\/contoso-azure\s+Ready: /m);
    expect(stdout).toMatch(/6 objects: 5 ok, 1 failed, 0 warnings, 0 resolved at apply time/);
  });

  it('exits 0 when nothing fails; a source elsewhere is resolved at apply time', async () => {
    const { code, stdout } = await run(['validate', join(examples, '30-public-secret.yaml')]);
    expect(code).toBe(0);
    const alone = await run(
      ['validate', '-'],
      'apiVersion: integration.b2b.dev/v1alpha1\nkind: Certificate\nmetadata: {name: x}\nspec:\n  integrationAccount: {name: a}\n  type: Public\n  certificate: {secretRef: {name: elsewhere}}\n',
    );
    expect(alone.code).toBe(0);
    expect(alone.stdout).toMatch(
      /LATER\s+Certificate default\/x\s+ResolvedAtApplyTime: the certificate source \(Secret elsewhere\) is not in the input; it is resolved at apply time/,
    );
    expect(stdout).toMatch(/IntegrationAccount contoso, its quota and vaults/);
  });

  it('warns within --warn-expiring and fails on warnings only with --strict', async () => {
    const file = tempFile(
      'c.yaml',
      `apiVersion: integration.b2b.dev/v1alpha1\nkind: Certificate\nmetadata: {name: soon, namespace: b2b}\nspec:\n  integrationAccount: {name: a}\n  type: Public\n  expiryWarning: 1h\n  certificate:\n    inline: |\n${material.expiringSoon.pem.replace(/^/gm, '      ')}`,
    );
    const plain = await run(['validate', file]);
    expect(plain).toMatchObject({ code: 0 });
    expect(plain.stdout).toMatch(/^OK/);
    const warned = await run(['validate', file, '--warn-expiring', '720h']);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/^WARN\s+Certificate b2b\/soon\s+ExpiresSoon: /);
    expect((await run(['validate', file, '--warn-expiring', '720h', '--strict'])).code).toBe(1);
  });

  it('writes SARIF 2.1.0 with a result on the file and line of each failing object', async () => {
    const { stdout } = await run(['validate', '-f', examples, '-o', 'sarif']);
    const sarif = JSON.parse(stdout) as {
      version: string;
      runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: unknown[] }[];
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.tool.driver.rules.map((r) => r.id)).toEqual(['MissingDataEncipherment']);
    expect(sarif.runs[0]!.results).toEqual([
      {
        ruleId: 'MissingDataEncipherment',
        level: 'error',
        message: {
          text: expect.stringMatching(/^Certificate b2b\/contoso-signing: a Private/) as string,
        },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: 'examples/50-failing-private.yaml' },
              region: { startLine: 4 },
            },
          },
        ],
      },
    ]);
  });

  it('reports YAML that does not parse, and kubectl List objects are split', async () => {
    const broken = await run(['validate', '-'], 'a: [1, 2\n');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^FAIL\s+stdin:1\s+not valid YAML/);
    const list = await run(
      ['validate', '-', '-o', 'json'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'integration.b2b.dev/v1alpha1',
            kind: 'IntegrationAccount',
            metadata: { name: 'a' },
            spec: {},
          },
          { apiVersion: 'integration.b2b.dev/v1alpha1', kind: 'Widget', metadata: { name: 'w' } },
        ],
      }),
    );
    const { results } = JSON.parse(list.stdout) as {
      results: { kind: string; level: string; message: string }[];
    };
    expect(results.map((r) => [r.kind, r.level])).toEqual([
      ['IntegrationAccount', 'pass'],
      ['Widget', 'fail'],
    ]);
    expect(results[1]!.message).toMatch(/no kind Widget in integration.b2b.dev\/v1alpha1/);
    const badName = await run(
      ['validate', '-'],
      'apiVersion: integration.b2b.dev/v1alpha1\nkind: IntegrationAccount\nmetadata: {name: Contoso_EU}\nspec: {}\n',
    );
    expect(badName.code).toBe(1);
    expect(badName.stdout).toMatch(
      /metadata.name: Invalid value: "Contoso_EU": a lowercase RFC 1123 subdomain/,
    );
  });

  it('reports a Secret or ConfigMap whose values are not strings, instead of crashing', async () => {
    const { code, stdout } = await run(
      ['validate', '-', '-o', 'json'],
      [
        'apiVersion: v1',
        'kind: Secret',
        'metadata: {name: src}',
        'stringData:',
        '  tls.crt: 12345',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: {name: cm}',
        'binaryData: {tls.crt: [1]}',
        '---',
        'apiVersion: integration.b2b.dev/v1alpha1',
        'kind: Certificate',
        'metadata: {name: c}',
        'spec:',
        '  integrationAccount: {name: acc}',
        '  type: Public',
        '  certificate: {secretRef: {name: src}}',
      ].join('\n'),
    );
    expect(code).toBe(1);
    const { results } = JSON.parse(stdout) as {
      results: { kind: string; name: string; level: string; reason: string; message: string }[];
    };
    expect(results.map((r) => [r.kind, r.name, r.level, r.reason])).toEqual([
      ['Secret', 'src', 'fail', 'Invalid'],
      ['ConfigMap', 'cm', 'fail', 'Invalid'],
      ['Certificate', 'c', 'pending', expect.any(String) as string],
    ]);
    expect(results[0]!.message).toMatch(/stringData\[tls\.crt\]: .*must be a string/);
    expect(results[1]!.message).toMatch(/binaryData\[tls\.crt\]: .*must be a string/);
  });
});

describe('b2b help and version', () => {
  it('prints usage per subcommand with every flag, and the version', async () => {
    for (const command of ['validate', 'inspect', 'status', 'check']) {
      const { code, stdout } = await run([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: b2b ${command}`));
      expect(stdout).toContain('-h, --help');
    }
    expect((await run(['validate', '--help'])).stdout).toMatch(/--warn-expiring DURATION/);
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const synopsis of [
      /^ {2}validate /m,
      /^ {2}inspect /m,
      /^ {2}status +\[-n NS/m,
      /^ {2}status +certificate NAME/m,
      /^ {2}check +api /m,
    ])
      expect(top.stdout).toMatch(synopsis);
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: 'b2b 0.1.0\n' });
  });

  it('exits 2 on usage errors, naming the flags that exist', async () => {
    const { code, stderr } = await run(['validate', '--nope']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown flag --nope; flags: --filename --output/);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['validate'])).code).toBe(2);
  });
});
