// The shipped manifests, read as files: a production-ready Deployment, alerts on metrics the
// operator really exports, and a crds/ kustomization that lists every CRD.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { Metrics } from '../../../src/operator/metrics.ts';
import {
  crdKeepAnnotations,
  memoryBytes,
  operatorDeploymentProblems,
  type Deployment,
} from '../../support/manifests.ts';

const root = new URL('../../..', import.meta.url).pathname;
const load = (file: string): unknown => parse(readFileSync(join(root, file), 'utf8'));

interface RuleGroups {
  spec: { groups: { rules: { alert: string; expr: string }[] }[] };
}

describe('deploy/', () => {
  it('has a Deployment with everything production needs', () => {
    const deployment = load('deploy/operator/deployment.yaml') as Deployment;
    expect(operatorDeploymentProblems(deployment)).toEqual([]);
  });

  it('has a PodDisruptionBudget that lets a drain evict one replica, also when scaled to one', () => {
    const pdb = load('deploy/operator/pdb.yaml') as { spec: Record<string, unknown> };
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1 });
    expect(pdb.spec).not.toHaveProperty('minAvailable');
  });

  it('the Deployment check finds what is missing', () => {
    const bare = {
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'operator',
                resources: { limits: { memory: '1Gi' } },
                env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1024' }],
              },
            ],
          },
        },
      },
    };
    const problems = operatorDeploymentProblems(bare);
    expect(problems).toContain('at least 2 replicas');
    expect(problems).toContain('heap cap 1024 MiB is not 50-85% of 1Gi');
    expect(problems).toHaveLength(13);
    expect(memoryBytes('512Mi')).toBe(512 * 2 ** 20);
  });

  it('alerts only on metrics the operator exports', () => {
    const exported = new Set(
      new Metrics().registry
        .describe()
        .flatMap((m) =>
          m.type === 'histogram'
            ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
            : [m.name],
        ),
    );
    const rules = (load('deploy/monitoring/prometheusrule.yaml') as RuleGroups).spec.groups.flatMap(
      (g) => g.rules,
    );
    const used = rules.flatMap((r) => r.expr.match(/\bb2b_[a-z_]+/g) ?? []);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'B2BCertificateExpiringSoon',
        'B2BCertificateNotReady',
        'B2BReconcileErrors',
        'B2BKeyVaultFailures',
        'B2BOperatorNoLeader',
      ]),
    );
  });

  it('crds/Kustomization lists every CRD in crds/', () => {
    const listed = (load('crds/Kustomization') as { resources: string[] }).resources;
    const files = readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml'));
    expect([...listed].sort()).toEqual(files.sort());
  });
});

describe('crds/ (uninstall safety)', () => {
  it('every CRD carries the annotations that stop Helm, Argo CD and Flux deleting it', () => {
    const files = readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const crd = load(`crds/${f}`) as { metadata: { annotations?: Record<string, string> } };
      expect(crd.metadata.annotations, f).toMatchObject(crdKeepAnnotations);
    }
  });
});

describe('charts/b2b-certificate-operator', () => {
  const chart = 'charts/b2b-certificate-operator';

  it('ships crds/ byte for byte', () => {
    const files = readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml'));
    expect(readdirSync(join(root, chart, 'crds')).sort()).toEqual(files.sort());
    for (const f of files)
      expect(readFileSync(join(root, chart, 'crds', f), 'utf8'), `${f} differs: make gen`).toBe(
        readFileSync(join(root, 'crds', f), 'utf8'),
      );
  });

  it('has the ClusterRole rules and alert rules of deploy/', () => {
    const rbac = readFileSync(join(root, 'deploy/operator/rbac.yaml'), 'utf8');
    const clusterRole = parseAllDocuments(rbac)
      .map((d) => d.toJS() as { kind: string; rules?: unknown })
      .find((o) => o.kind === 'ClusterRole');
    expect(load(`${chart}/files/clusterrole-rules.yaml`)).toEqual(clusterRole?.rules);
    expect(load(`${chart}/files/prometheus-rules.yaml`)).toEqual(
      (load('deploy/monitoring/prometheusrule.yaml') as RuleGroups).spec,
    );
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };

  it('pins the Node image to the exact version the tests run on', () => {
    const from = /^FROM node:(\S+)$/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^\d+\.\d+\.\d+-/);
    expect(from?.split('-')[0]).toBe(pkg.devDependencies.node);
  });

  it('builds with the same pinned Node, and runs the compiled JavaScript of npm run build', () => {
    const froms = [...dockerfile.matchAll(/^FROM node:(\S+)/gm)].map((m) => m[1]);
    expect(froms).toHaveLength(2);
    expect(new Set(froms).size).toBe(1);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/build\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/main\.js"\]$/m);
  });

  it('installs production dependencies only, runs non-root, and has no HEALTHCHECK', () => {
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).not.toMatch(/^HEALTHCHECK/m);
  });
});

describe('GitOps examples', () => {
  it('argocd-cm holds health.lua verbatim for both kinds', () => {
    const lua = readFileSync(
      join(
        root,
        'deploy/argocd/resource_customizations/integration.b2b.dev/Certificate/health.lua',
      ),
      'utf8',
    );
    const cm = load('deploy/argocd/argocd-cm.yaml') as { data: Record<string, string> };
    expect(cm.data).toEqual({
      'resource.customizations.health.integration.b2b.dev_Certificate': lua,
      'resource.customizations.health.integration.b2b.dev_IntegrationAccount': lua,
    });
  });

  interface FluxKustomization {
    kind: string;
    metadata: { name: string };
    spec: {
      path?: string;
      prune?: boolean;
      wait?: boolean;
      dependsOn?: { name: string }[];
      healthChecks?: { kind: string; name: string; namespace?: string }[];
    };
  }
  interface Manifest {
    kind: string;
    metadata: { name: string; namespace?: string };
    spec?: { store?: { azure?: unknown } };
  }
  const fluxDocs = () =>
    parseAllDocuments(readFileSync(join(root, 'deploy/flux/kustomizations.yaml'), 'utf8')).map(
      (d) => d.toJS() as FluxKustomization,
    );

  /** What Flux's kustomize-controller applies from a path: its kustomization's resources, or
   * (none there) every YAML file below it, sub-folders included. */
  function fluxApplies(path: string): { file: string; object: Manifest }[] {
    const dir = join(root, path);
    const kustomization = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
      .map((f) => join(dir, f))
      .find((f) => existsSync(f));
    const files = kustomization
      ? (parse(readFileSync(kustomization, 'utf8')) as { resources: string[] }).resources.map((r) =>
          join(dir, r),
        )
      : (readdirSync(dir, { recursive: true }) as string[])
          .filter((f) => /\.ya?ml$/.test(f))
          .map((f) => join(dir, f));
    return files.flatMap((file) =>
      parseAllDocuments(readFileSync(file, 'utf8')).map((d) => ({
        file: file.slice(root.length),
        object: d.toJS() as Manifest,
      })),
    );
  }

  it('Flux waits only on example objects that can become Ready, and applies no Azure placeholder', () => {
    const certificates = fluxDocs().find((d) => d.metadata.name === 'b2b-certificates')!;
    const applied = fluxApplies(certificates.spec.path!);
    const key = (o: { kind: string; name: string }) => `${o.kind}/${o.name}`;
    const appliedKeys = applied.map(({ object: o }) =>
      key({ kind: o.kind, name: o.metadata.name }),
    );
    // `wait: true` waits on every object applied; otherwise only the named health checks.
    const waitedOn = certificates.spec.wait
      ? appliedKeys
      : (certificates.spec.healthChecks ?? []).map(key);
    expect(waitedOn).not.toContain('Certificate/contoso-signing'); // fails on purpose
    expect(appliedKeys).toEqual(expect.arrayContaining(waitedOn)); // no stale health check
    expect(waitedOn).toEqual(
      expect.arrayContaining(['IntegrationAccount/contoso', 'Certificate/fabrikam-as2']),
    );
    // An account with placeholder Azure IDs never becomes Ready: not applied at all.
    expect(applied.filter(({ object: o }) => o.spec?.store?.azure).map((a) => a.file)).toEqual([]);
  });

  it('Flux applies crds/ first and health-checks what deploy/operator installs', () => {
    const docs = parseAllDocuments(
      readFileSync(join(root, 'deploy/flux/kustomizations.yaml'), 'utf8'),
    ).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string };
          spec: {
            path?: string;
            dependsOn?: { name: string }[];
            healthChecks?: { kind: string; name: string }[];
          };
        },
    );
    const byName = new Map(docs.map((d) => [d.metadata.name, d]));
    expect(byName.get('b2b-crds')?.spec.path).toBe('./crds');
    expect(byName.get('b2b-operator')?.spec.dependsOn).toEqual([{ name: 'b2b-crds' }]);
    expect(byName.get('b2b-operator')?.spec.path).toBe('./deploy/operator');
    const deployment = load('deploy/operator/deployment.yaml') as Deployment;
    expect(byName.get('b2b-operator')?.spec.healthChecks).toContainEqual(
      expect.objectContaining({ kind: 'Deployment', name: deployment.metadata.name }),
    );
  });
});
