// The CRDs install the ways GitOps tools install them: re-applied client-side, applied
// server-side with strict field validation (what Flux does, and Argo CD with
// ServerSideApply=true), and applied again as an upgrade. The server keeps every description.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubectl, repoRoot, succeeded } from '../support/kubectl.ts';

const crdFiles = [
  'integration.b2b.dev_certificates.yaml',
  'integration.b2b.dev_integrationaccounts.yaml',
];

interface Crd {
  metadata: { name: string };
  spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] };
}

describe('crds/ applied as GitOps tools apply them', () => {
  it('re-applies client-side (the global set-up applied it once already)', async () => {
    succeeded(await kubectl(['apply', '-f', 'crds/']));
    succeeded(await kubectl(['apply', '-f', 'crds/']));
  });

  it('applies server-side with --validate=strict, then again as an upgrade', async () => {
    for (let i = 0; i < 2; i++) {
      const out = succeeded(
        await kubectl([
          'apply',
          '--server-side',
          '--validate=strict',
          '--field-manager=b2b-gitops-test',
          '-f',
          'crds/',
        ]),
      );
      expect(out).toMatch(/serverside-applied/);
    }
  });

  it('stores the schemas exactly as written, so kubectl explain shows whole descriptions', async () => {
    for (const file of crdFiles) {
      const local = parse(readFileSync(join(repoRoot, 'crds', file), 'utf8')) as Crd;
      const stored = JSON.parse(
        succeeded(await kubectl(['get', 'crd', local.metadata.name, '-o', 'json'])),
      ) as Crd;
      expect(stored.spec.versions.map((v) => v.schema.openAPIV3Schema)).toEqual(
        local.spec.versions.map((v) => v.schema.openAPIV3Schema),
      );
    }
    const explained = succeeded(
      await kubectl(['explain', 'certificates.integration.b2b.dev.status.serialNumber']),
    );
    expect(explained).toContain('Serial number, upper-case hex.');
    const ready = succeeded(
      await kubectl([
        'explain',
        'integrationaccounts.integration.b2b.dev.status.certificates.ready',
      ]),
    );
    expect(ready).toContain('Of those, how many are Ready.');
  });
});
