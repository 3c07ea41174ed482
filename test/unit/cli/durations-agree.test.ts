// `b2b validate --warn-expiring` and a Certificate's `spec.expiryWarning` take the same duration
// syntax (Go durations, src/certificates/duration.ts): a value copied from one to the other
// means the same or is refused by both. Checked through the CLI (flag and CRD schema) and
// against the CRD's own pattern.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseGoDuration } from '../../../src/certificates/duration.ts';
import { main, type Io } from '../../../src/cli/main.ts';
import { material } from '../../support/certificate-cases.ts';

const root = new URL('../../..', import.meta.url).pathname;

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    argv,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => Buffer.alloc(0),
    env: {},
    cwd: root,
    now: () => new Date(),
  };
  return { code: await main(io), stdout, stderr };
}

function certificateFile(expiryWarning?: string): string {
  const warning =
    expiryWarning === undefined ? '' : `  expiryWarning: ${JSON.stringify(expiryWarning)}\n`;
  const file = join(mkdtempSync(join(tmpdir(), 'b2b-durations-')), 'c.yaml');
  writeFileSync(
    file,
    `apiVersion: integration.b2b.dev/v1alpha1\nkind: Certificate\nmetadata: {name: c, namespace: b2b}\nspec:\n  integrationAccount: {name: a}\n  type: Public\n${warning}  certificate:\n    inline: |\n${material.partner.pem.replace(/^/gm, '      ')}`,
  );
  return file;
}

function crdExpiryWarningPattern(): RegExp {
  const crd = parseYaml(
    readFileSync(join(root, 'crds/integration.b2b.dev_certificates.yaml'), 'utf8'),
  ) as {
    spec: {
      versions: {
        schema: {
          openAPIV3Schema: {
            properties: { spec: { properties: { expiryWarning: { pattern: string } } } };
          };
        };
      }[];
    };
  };
  const pattern =
    crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.expiryWarning.pattern;
  return new RegExp(pattern, 'u');
}

const samples = [
  '720h',
  '1h30m',
  '90s',
  '1.5h',
  '500ms',
  '0s',
  '30d',
  '2w',
  '1y',
  'h',
  '-1h',
  '1H',
  '1h ',
  '',
];

describe('duration syntax of --warn-expiring and spec.expiryWarning', () => {
  const pattern = crdExpiryWarningPattern();

  it.each(samples)('%j is accepted by both or refused by both', async (text) => {
    const crdAccepts = pattern.test(text);
    expect(parseGoDuration(text) !== undefined).toBe(crdAccepts);

    const flag = await run(['validate', certificateFile(), '--warn-expiring', text]);
    expect(flag.code === 2 ? 'refused' : 'accepted').toBe(crdAccepts ? 'accepted' : 'refused');
    if (!crdAccepts) expect(flag.stderr).toMatch(/--warn-expiring must be a Go duration/);

    const spec = await run(['validate', certificateFile(text), '-o', 'json']);
    expect(spec.code === 0 ? 'accepted' : 'refused').toBe(crdAccepts ? 'accepted' : 'refused');
  });
});
