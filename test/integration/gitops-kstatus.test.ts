// What Flux's health checks (kstatus, hack/kstatus) read from the objects in the docs' Flux
// set-up (deploy/flux/): the CRDs, the operator's Deployment, and every object in examples/
// once the operator has made it Ready.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { kstatus, kubectl, repoRoot, succeeded } from '../support/kubectl.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number };
  spec?: { replicas?: number };
  status?: unknown;
}

describe('kstatus on the GitOps examples', () => {
  let ns: string;
  let op: RunningOperator;
  let examples: Obj[];

  beforeAll(async () => {
    ns = await createNamespace(adminClient(), 'gitops');
    examples = readdirSync(join(repoRoot, 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(join(repoRoot, 'examples', f), 'utf8')))
      .map((d) => d.toJS() as Obj)
      .filter((o) => o.kind !== 'Namespace')
      .map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
    succeeded(
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: examples }),
      ),
    );
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('reads every example object Current once Ready, and the failing one Failed', async () => {
    const expected = (o: Obj) => (o.metadata.name === 'contoso-signing' ? 'Failed' : 'Current');
    const read = async (o: Obj) => {
      const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
      const kind = group ? `${o.kind.toLowerCase()}.${group}` : o.kind.toLowerCase();
      const out = succeeded(await kubectl(['get', kind, o.metadata.name, '-n', ns, '-o', 'json']));
      return `${o.kind}/${o.metadata.name} ${kstatus(JSON.parse(out))}`;
    };
    const want = examples.map((o) => `${o.kind}/${o.metadata.name} ${expected(o)}`);
    expect(examples.length).toBeGreaterThanOrEqual(6);
    await eventually(
      async () => {
        const got = await Promise.all(examples.map(read));
        return got.join('\n') === want.join('\n') ? got : undefined;
      },
      `kstatus to read: ${want.join(', ')}`,
      60_000,
      500,
    );
  });

  it('reads the CRDs Current (Established), as the b2b-crds Kustomization waits for', async () => {
    for (const name of [
      'certificates.integration.b2b.dev',
      'integrationaccounts.integration.b2b.dev',
    ]) {
      const crd = JSON.parse(succeeded(await kubectl(['get', 'crd', name, '-o', 'json']))) as Obj;
      expect(kstatus(crd), name).toBe('Current');
    }
  });

  it('reads the Deployment InProgress until its rollout completes, then Current', async () => {
    // No kubelet or controller-manager here: the server-defaulted Deployment from a dry run,
    // then the status the deployment controller writes once both replicas are available.
    const rendered = parseAllDocuments(succeeded(await kubectl(['kustomize', 'deploy/operator'])))
      .map((d) => d.toJS() as Obj)
      .find((o) => o.kind === 'Deployment')!;
    const stored = JSON.parse(
      succeeded(
        await kubectl(
          ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
          JSON.stringify({ ...rendered, metadata: { ...rendered.metadata, namespace: ns } }),
        ),
      ),
    ) as Obj;
    expect(kstatus(stored)).toBe('InProgress');
    const replicas = stored.spec?.replicas ?? 1;
    const rolledOut = {
      ...stored,
      metadata: { ...stored.metadata, generation: 1 },
      status: {
        observedGeneration: 1,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
        ],
      },
    };
    expect(kstatus(rolledOut)).toBe('Current');
  });
});
