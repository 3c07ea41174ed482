// `kubectl apply -k deploy/` as a user runs it (kubectl's built-in kustomize), against the
// test control plane: server-side dry-run, then for real, twice. No kubelet runs there, so
// the test checks the stored objects, not running pods. deploy/monitoring/ goes onto
// stand-in Prometheus Operator CRDs (its rules: monitoring-rules.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  eventuallySucceeds,
  installPrometheusOperatorCrds,
  kubectl,
  repoRoot,
  succeeded,
} from '../support/kubectl.ts';
import { adminClient, createNamespace, eventually, operatorClient } from '../support/cluster.ts';
import {
  crdKeepAnnotations,
  operatorDeploymentProblems,
  type Deployment,
} from '../support/manifests.ts';

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
      'ClusterRole/b2b-operator-crds',
      'ClusterRoleBinding/b2b-operator',
      'ClusterRoleBinding/b2b-operator-crds',
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
    // The sync wave is added to the CRDs' own annotations, which keep them on uninstall.
    for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition'))
      expect(crd.metadata.annotations).toEqual({
        ...crdKeepAnnotations,
        'argocd.argoproj.io/sync-wave': '-1',
      });
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment;
    expect(operatorDeploymentProblems(deployment)).toEqual([]);
  });

  it('is what the Argo CD Application syncs, with CRDs it never prunes or deletes', async () => {
    const app = parse(readFileSync(join(repoRoot, 'deploy/argocd/application.yaml'), 'utf8')) as {
      spec: { source: { path: string }; syncPolicy: { automated?: { prune?: boolean } } };
    };
    const crds = parseAllDocuments(succeeded(await kubectl(['kustomize', app.spec.source.path])))
      .map((d) => d.toJS() as Obj)
      .filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(2);
    // Automated prune is on for the rest; the CRDs opt out of it, and of Delete on app deletion.
    expect(app.spec.syncPolicy.automated?.prune).toBe(true);
    for (const crd of crds)
      expect(crd.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe(
        'Prune=false,Delete=false',
      );
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
    for (const name of [
      'certificates.integration.b2b.dev',
      'integrationaccounts.integration.b2b.dev',
    ]) {
      const crd = JSON.parse(succeeded(await kubectl(['get', 'crd', name, '-o', 'json']))) as Obj;
      expect(crd.metadata.annotations).toMatchObject(crdKeepAnnotations);
    }
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

describe('kubectl apply -k deploy/tenant-lockdown/', () => {
  it('is deploy/operator/ with --azure-identity-policy=serviceAccount, and passes a server-side dry run', async () => {
    const objects = parseAllDocuments(
      succeeded(await kubectl(['kustomize', 'deploy/tenant-lockdown/'])),
    ).map((d) => d.toJS() as Obj);
    const operator = parseAllDocuments(
      succeeded(await kubectl(['kustomize', 'deploy/operator/'])),
    ).map((d) => d.toJS() as Obj);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        ...operator.map((o) => `${o.kind}/${o.metadata.name}`),
        'ValidatingAdmissionPolicy/b2b-operator-token-audience',
        'ValidatingAdmissionPolicyBinding/b2b-operator-token-audience',
      ].sort(),
    );
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment;
    expect(operatorDeploymentProblems(deployment)).toEqual([]);
    const env = deployment.spec.template.spec.containers[0]!.env ?? [];
    expect(env.filter((e) => e.name === 'B2B_AZURE_IDENTITY_POLICY')).toEqual([
      { name: 'B2B_AZURE_IDENTITY_POLICY', value: 'serviceAccount' },
    ]);
    succeeded(
      await kubectl([
        'apply',
        '-k',
        'deploy/tenant-lockdown/',
        '--server-side',
        '--dry-run=server',
      ]),
    );
  });
});

describe('deploy/tenant-lockdown/ token audience policy (real admission)', () => {
  it("lets the operator's user request tokens only for Entra ID's exchange, and none in kube-system", async () => {
    const admin = adminClient();
    const operator = operatorClient();
    // The policy as shipped, for the test environment's operator user (a client certificate).
    const policy = readFileSync(
      join(repoRoot, 'deploy/tenant-lockdown/token-audience-policy.yaml'),
      'utf8',
    ).replace('system:serviceaccount:b2b-system:b2b-operator', 'b2b-operator');
    for (const doc of parseAllDocuments(policy)) {
      const obj = doc.toJS() as Obj & Record<string, unknown>;
      const path = `/apis/admissionregistration.k8s.io/v1/${obj.kind === 'ValidatingAdmissionPolicy' ? 'validatingadmissionpolicies' : 'validatingadmissionpolicybindings'}`;
      await admin.create(path, obj);
    }
    const ns = await createNamespace(admin, 'vap');
    await admin.create(`/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'team' } });
    await admin
      .create('/api/v1/namespaces/kube-system/serviceaccounts', { metadata: { name: 'vap-probe' } })
      .catch(() => undefined); // there from an earlier run
    const request = (namespace: string, name: string, audiences: string[]) =>
      operator
        .create(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { audiences, expirationSeconds: 600 },
        })
        .then(
          () => 'issued',
          (e: unknown) => String(e),
        );
    try {
      // The policy takes effect once the API server has loaded it.
      await eventually(
        async () =>
          /only for the audience api:\/\/AzureADTokenExchange/.test(
            await request(ns, 'team', ['https://kubernetes.default.svc']),
          )
            ? true
            : undefined,
        'the admission policy refusing another audience',
      );
      expect(await request(ns, 'team', ['api://AzureADTokenExchange'])).toBe('issued');
      expect(await request('kube-system', 'vap-probe', ['api://AzureADTokenExchange'])).toMatch(
        /not request ServiceAccount tokens in the cluster's own namespaces/,
      );
      // Anyone else (the admin) is not this policy's business.
      expect(
        await admin
          .create(`/api/v1/namespaces/${ns}/serviceaccounts/team/token`, {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { audiences: ['https://kubernetes.default.svc'] },
          })
          .then(() => 'issued'),
      ).toBe('issued');
    } finally {
      await admin.delete(
        '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/b2b-operator-token-audience',
      );
      await admin.delete(
        '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/b2b-operator-token-audience',
      );
    }
  });
});

describe('deploy/monitoring/', () => {
  it('applies server-side onto the Prometheus Operator CRDs (stand-ins)', async () => {
    await installPrometheusOperatorCrds();
    const out = await eventuallySucceeds(() =>
      kubectl(['apply', '-k', 'deploy/monitoring/', '--server-side', '--dry-run=server']),
    );
    expect(out).toMatch(/prometheusrule.monitoring.coreos.com\/b2b-operator serverside-applied/);
    expect(out).toMatch(/servicemonitor.monitoring.coreos.com\/b2b-operator serverside-applied/);
  });
});
