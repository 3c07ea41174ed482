// `kubectl apply -k deploy/` as a user runs it (kubectl's built-in kustomize), against the
// test control plane: server-side dry-run, then for real, twice. No kubelet runs there, so
// the test checks the stored objects, not running pods. deploy/monitoring/ goes onto
// stand-in Prometheus Operator CRDs, and its rules through promtool.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  eventuallySucceeds,
  installPrometheusOperatorCrds,
  kubectl,
  repoRoot,
  run,
  succeeded,
} from '../support/kubectl.ts';
import { operatorDeploymentProblems, type Deployment } from '../support/manifests.ts';
import { goTool, TOOL_BUILD_TIMEOUT_MS } from '../support/tools.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}

describe('kubectl apply -k deploy/', () => {
  it('renders the CRDs (earlier Argo CD sync wave), RBAC, Deployment, PDB and metrics Service', async () => {
    const objects = parseAllDocuments(succeeded(await kubectl(['kustomize', 'deploy/']))).map(
      (d) => d.toJS() as Obj,
    );
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/b2b-operator',
      'ClusterRoleBinding/b2b-operator',
      'CustomResourceDefinition/certificates.integration.b2b.dev',
      'CustomResourceDefinition/integrationaccounts.integration.b2b.dev',
      'Deployment/b2b-operator',
      'Namespace/b2b-system',
      'PodDisruptionBudget/b2b-operator',
      'Role/b2b-operator-leader-election',
      'RoleBinding/b2b-operator-leader-election',
      'Service/b2b-operator-metrics',
      'ServiceAccount/b2b-operator',
    ]);
    for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition'))
      expect(crd.metadata.annotations?.['argocd.argoproj.io/sync-wave']).toBe('-1');
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment;
    expect(operatorDeploymentProblems(deployment)).toEqual([]);
  });

  it('passes a server-side dry run', async () => {
    const out = succeeded(
      await kubectl(['apply', '-k', 'deploy/', '--server-side', '--dry-run=server']),
    );
    expect(out).toMatch(/deployment.apps\/b2b-operator serverside-applied \(server dry run\)/);
  });

  it('installs for real, and again (an unchanged re-apply)', async () => {
    for (let i = 0; i < 2; i++)
      succeeded(await kubectl(['apply', '-k', 'deploy/', '--server-side', '--validate=strict']));
    const stored = JSON.parse(
      succeeded(
        await kubectl(['get', 'deployment', 'b2b-operator', '-n', 'b2b-system', '-o', 'json']),
      ),
    ) as Deployment;
    expect(operatorDeploymentProblems(stored)).toEqual([]);
    const names = succeeded(
      await kubectl([
        'get',
        'serviceaccount/b2b-operator',
        'service/b2b-operator-metrics',
        'poddisruptionbudget/b2b-operator',
        'role/b2b-operator-leader-election',
        'rolebinding/b2b-operator-leader-election',
        '-n',
        'b2b-system',
        '-o',
        'name',
      ]),
    );
    expect(names.trim().split('\n')).toHaveLength(5);
    // The ServiceAccount really gets what the operator needs, and no more than that.
    const can = async (verb: string, resource: string, ns = 'default') =>
      (
        await kubectl([
          'auth',
          'can-i',
          verb,
          resource,
          '-n',
          ns,
          '--as=system:serviceaccount:b2b-system:b2b-operator',
        ])
      ).stdout.trim();
    expect(await can('patch', 'certificates.integration.b2b.dev/status')).toBe('yes');
    expect(await can('create', 'secrets')).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', 'b2b-system')).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io')).toBe('no');
    expect(await can('delete', 'certificates.integration.b2b.dev')).toBe('no');
    expect(await can('create', 'pods')).toBe('no');
  });
});

describe('deploy/monitoring/', () => {
  let promtool: string;
  beforeAll(() => {
    promtool = goTool('promtool');
  }, TOOL_BUILD_TIMEOUT_MS);

  it('applies server-side onto the Prometheus Operator CRDs (stand-ins)', async () => {
    await installPrometheusOperatorCrds();
    const out = await eventuallySucceeds(() =>
      kubectl(['apply', '-k', 'deploy/monitoring/', '--server-side', '--dry-run=server']),
    );
    expect(out).toMatch(/prometheusrule.monitoring.coreos.com\/b2b-operator serverside-applied/);
    expect(out).toMatch(/servicemonitor.monitoring.coreos.com\/b2b-operator serverside-applied/);
  });

  it('has alert rules that promtool accepts, and that fire on the series the operator exports', async () => {
    const rule = parse(
      readFileSync(join(repoRoot, 'deploy/monitoring/prometheusrule.yaml'), 'utf8'),
    ) as { spec: unknown };
    const dir = mkdtempSync(join(tmpdir(), 'b2b-rules-'));
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify(rule.spec));
    copyFileSync(
      join(repoRoot, 'test/fixtures/prometheus-rules-test.yaml'),
      join(dir, 'rules-test.yaml'),
    );
    const checked = await run(promtool, ['check', 'rules', join(dir, 'rules.yaml')]);
    expect(checked.stdout + checked.stderr).toMatch(/SUCCESS: 7 rules found/);
    expect(checked.code).toBe(0);
    const tested = await run(promtool, ['test', 'rules', 'rules-test.yaml'], { cwd: dir });
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/SUCCESS/);
  });
});
