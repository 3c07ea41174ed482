// Every YAML file in the repository loads strictly, and every CRD schema is complete: the
// checks that would have caught the flow mappings that split at a comma (issue 10).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { crdProblems, schemaProblems, strictYamlProblems } from '../../support/manifests.ts';

const root = new URL('../../..', import.meta.url).pathname;
// Helm templates are Go templates, not YAML; they are checked by `helm lint` and `helm template`.
const skipped = /(^|\/)(node_modules|\.git|\.testenv|test-results|coverage|templates)$/;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return skipped.test(path) ? [] : yamlFiles(path);
    return /\.ya?ml$|^Kustomization$/.test(entry.name) ? [relative(root, path)] : [];
  });
}

describe('the repository YAML', () => {
  const files = yamlFiles(root);

  it('finds the CRDs and manifests', () => {
    expect(files).toContain('crds/integration.b2b.dev_certificates.yaml');
    expect(files).toContain('deploy/rbac.yaml');
  });

  it('loads strictly: no duplicate keys, no null values', () => {
    const problems = files.flatMap((f) =>
      strictYamlProblems(f, readFileSync(join(root, f), 'utf8')),
    );
    expect(problems).toEqual([]);
  });

  it('has complete CRD schemas: a description on every property, known keywords only', () => {
    const problems = files.flatMap((f) =>
      parseAllDocuments(readFileSync(join(root, f), 'utf8')).flatMap((d) =>
        crdProblems(d.toJS()).map((p) => `${f}: ${p}`),
      ),
    );
    expect(problems).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const broken =
    'properties:\n  ready: { type: integer, description: Of those, how many are Ready. }\n';

  it('catch a flow mapping split at a comma', () => {
    expect(strictYamlProblems('x.yaml', broken)).toEqual([
      {
        file: 'x.yaml',
        problem:
          '.properties.ready.how many are Ready. has no value (null): a broken flow mapping?',
      },
    ]);
    const schema = parseAllDocuments(broken)[0]!.toJS() as Record<string, unknown>;
    expect(schemaProblems(schema)).toEqual(['.ready: unknown keyword "how many are Ready."']);
  });

  it('catch duplicate keys, missing descriptions and unknown types', () => {
    expect(strictYamlProblems('x.yaml', 'a: 1\na: 2\n')[0]?.problem).toMatch(/DUPLICATE_KEY/);
    expect(
      schemaProblems({
        type: 'object',
        properties: {
          a: { type: 'string', description: ' ' },
          b: { type: 'text', description: 'B' },
        },
      }),
    ).toEqual(['.a: no description', '.b: unknown type "text"']);
  });
});
