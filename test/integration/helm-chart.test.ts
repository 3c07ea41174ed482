// The Helm chart, with Helm itself (built from the Go module proxy): lint, template into a
// server-side dry run, then install and upgrade into the test control plane (no kubelet:
// the test checks the stored objects).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { testenv } from '../support/cluster.ts';
import {
  eventuallySucceeds,
  installPrometheusOperatorCrds,
  kubectl,
  repoRoot,
  run,
  succeeded,
} from '../support/kubectl.ts';
import {
  crdKeepAnnotations,
  operatorDeploymentProblems,
  type Deployment,
} from '../support/manifests.ts';
import { goTool, TOOL_BUILD_TIMEOUT_MS } from '../support/tools.ts';

const chart = 'charts/b2b-certificate-operator';
// Every optional feature on, so lint and the dry run see every template.
const everything = [
  '--set',
  'monitoring.serviceMonitor.enabled=true',
  '--set',
  'monitoring.prometheusRule.enabled=true',
  '--set',
  'azureWorkloadIdentity.enabled=true',
  '--set',
  'azureWorkloadIdentity.clientId=00000000-0000-0000-0000-000000000001',
  '--set',
  'azureWorkloadIdentity.tenantId=00000000-0000-0000-0000-000000000002',
  '--set',
  'watchNamespace=b2b',
  '--set',
  'allowedVaultHosts={vault.example:8443,localhost:8443}',
  '--set',
  'azureIdentityPolicy=serviceAccount',
  '--set',
  'resources.limits.memory=512Mi',
  '--set',
  'nodeSelector.kubernetes\\.io/os=linux',
  '--set',
  'tolerations[0].key=dedicated,tolerations[0].operator=Exists',
  '--set',
  'extraArgs={--recheck-interval=30m}',
  '--set',
  'topologySpreadConstraints[0].maxSkew=1,topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone,topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway',
  '-f',
  `${chart}/ci/corporate-ca-values.yaml`,
];

interface Obj {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
}

interface PodSpec {
  securityContext?: Record<string, unknown>;
  topologySpreadConstraints?: Record<string, unknown>[];
  volumes?: { name: string }[];
  containers: {
    args?: string[];
    env?: { name: string; value?: string }[];
    securityContext?: Record<string, unknown>;
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
}

describe('helm chart', () => {
  let helm: string;
  let env: NodeJS.ProcessEnv;
  const release = `b2b-${Math.random().toString(16).slice(2, 8)}`;
  const namespace = `helm-${release}`;

  const helmRun = (args: string[]) => run(helm, args, { env });
  const render = async (...args: string[]) =>
    parseAllDocuments(
      succeeded(await helmRun(['template', release, chart, '-n', namespace, ...args])),
    ).map((d) => d.toJS() as Obj);
  const podSpec = (objects: Obj[]) =>
    (
      objects.find((o) => o.kind === 'Deployment') as unknown as {
        spec: { template: { spec: PodSpec } };
      }
    ).spec.template.spec;
  /** helm template's refusal (its stderr); fails the test if it renders. */
  const refusal = async (...args: string[]) => {
    const result = await helmRun(['template', release, chart, '-n', namespace, ...args]);
    expect(result.code, `rendered with ${args.join(' ')}`).not.toBe(0);
    return result.stderr;
  };

  beforeAll(() => {
    helm = goTool('helm');
    const home = mkdtempSync(join(tmpdir(), 'b2b-helm-'));
    env = {
      ...process.env,
      KUBECONFIG: testenv().adminKubeconfig,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
    };
  }, TOOL_BUILD_TIMEOUT_MS);
  afterAll(async () => {
    if (helm) await helmRun(['uninstall', release, '-n', namespace]);
    await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  });

  it('passes helm lint --strict, with defaults and with every option on', async () => {
    succeeded(await helmRun(['lint', '--strict', chart]));
    succeeded(await helmRun(['lint', '--strict', chart, ...everything]));
  });

  it('renders a production-ready Deployment with workload identity and every value wired', async () => {
    const objects = parseAllDocuments(
      succeeded(await helmRun(['template', release, chart, '-n', namespace, ...everything])),
    ).map((d) => d.toJS() as Obj);
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment & Obj;
    expect(operatorDeploymentProblems(deployment)).toEqual([]);
    const pod = deployment.spec.template;
    expect(pod.metadata?.labels?.['azure.workload.identity/use']).toBe('true');
    const sa = objects.find((o) => o.kind === 'ServiceAccount');
    expect(sa?.metadata.annotations).toEqual({
      'azure.workload.identity/client-id': '00000000-0000-0000-0000-000000000001',
      'azure.workload.identity/tenant-id': '00000000-0000-0000-0000-000000000002',
    });
    const env = Object.fromEntries(
      (pod.spec.containers[0]!.env ?? []).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      NODE_OPTIONS: '--max-old-space-size=341 --max-semi-space-size=1',
      B2B_WATCH_NAMESPACE: 'b2b',
      B2B_ALLOWED_VAULT_HOSTS: 'vault.example:8443,localhost:8443',
      B2B_AZURE_IDENTITY_POLICY: 'serviceAccount',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/corporate/ca.crt',
      B2B_CONCURRENCY: '4',
      B2B_LOG_LEVEL: 'info',
    });
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining([
        'PodDisruptionBudget',
        'Service',
        'ServiceMonitor',
        'PrometheusRule',
      ]),
    );
  });

  it('renders no PodDisruptionBudget for one replica, and one that lets a drain evict a pod for more', async () => {
    const pdb = (objects: Obj[]) => objects.find((o) => o.kind === 'PodDisruptionBudget');
    // One replica: any budget that keeps a pod up blocks node drains forever.
    expect(pdb(await render('--set', 'replicas=1'))).toBeUndefined();
    expect(pdb(await render())?.spec).toMatchObject({ maxUnavailable: 1 });
    expect(pdb(await render())?.spec).not.toHaveProperty('minAvailable');
    expect(pdb(await render('--set', 'replicas=3'))?.spec).toMatchObject({ maxUnavailable: 1 });
    const minAvailable = pdb(
      await render('--set', 'replicas=3', '--set', 'podDisruptionBudget.minAvailable=2'),
    )?.spec;
    expect(minAvailable).toMatchObject({ minAvailable: 2 });
    expect(minAvailable).not.toHaveProperty('maxUnavailable');
    expect(await refusal('--set', 'podDisruptionBudget.minAvailable=2')).toContain(
      'podDisruptionBudget.minAvailable (2) must be below replicas (2)',
    );
  });

  it('refuses a value values.schema.json does not know, or of the wrong type, on template and install', async () => {
    for (const [set, words] of [
      ['replica=3', 'replica'],
      ['replicas=two', 'replicas'],
      ['podDisruptionBudget.enabeld=false', 'enabeld'],
      ['logLevel=verbose', 'logLevel'],
      ['azureIdentityPolicy=teams', 'azureIdentityPolicy'],
      ['image.tag=1', 'tag'],
      ['resources.limit.memory=1Gi', 'limit'],
    ] as const) {
      const stderr = await refusal('--set', set);
      expect(stderr, set).toMatch(/values don't meet the specifications of the schema/);
      expect(stderr, set).toContain(words);
    }
    const install = await helmRun([
      'install',
      release,
      chart,
      '-n',
      namespace,
      '--dry-run',
      '--set',
      'replica=3',
    ]);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toMatch(/schema/);
    // What the chart and its examples set passes: Flux's HelmRelease values.
    const helmRelease = parse(
      readFileSync(join(repoRoot, 'deploy/flux/helmrelease.yaml'), 'utf8'),
    ) as {
      spec: { values: unknown };
    };
    const values = join(mkdtempSync(join(tmpdir(), 'b2b-values-')), 'values.yaml');
    writeFileSync(values, JSON.stringify(helmRelease.spec.values));
    expect((await render('-f', values)).map((o) => o.kind)).toContain('Deployment');
  });

  it('runs non-root by default, and lets OpenShift unset runAsUser and runAsGroup', async () => {
    const defaults = podSpec(await render());
    expect(defaults.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(defaults.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    // OpenShift's restricted SCC assigns the user and group from the namespace's range.
    const openshift = podSpec(
      await render(
        '--set',
        'podSecurityContext.runAsUser=null',
        '--set',
        'podSecurityContext.runAsGroup=null',
      ),
    );
    expect(openshift.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const fsGroup = podSpec(await render('--set', 'podSecurityContext.fsGroup=2000'));
    expect(fsGroup.securityContext).toMatchObject({ fsGroup: 2000, runAsUser: 65532 });
  });

  it('wires extraArgs, extraEnv, extraVolumes, extraVolumeMounts and topologySpreadConstraints', async () => {
    const pod = podSpec(await render(...everything));
    const container = pod.containers[0]!;
    expect(container.args).toEqual(['--leader-elect', '--recheck-interval=30m']);
    // The corporate CA example (ci/corporate-ca-values.yaml, docs/operations.md).
    expect(container.env).toContainEqual({
      name: 'NODE_EXTRA_CA_CERTS',
      value: '/etc/ssl/corporate/ca.crt',
    });
    expect(container.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'corporate-ca', mountPath: '/etc/ssl/corporate', readOnly: true },
    ]);
    expect(pod.volumes?.map((v) => v.name)).toEqual(['tmp', 'corporate-ca']);
    // A constraint without a labelSelector gets the operator's pods'.
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: {
          matchLabels: {
            'app.kubernetes.io/name': 'b2b-certificate-operator',
            'app.kubernetes.io/instance': release,
          },
        },
      },
    ]);
    expect(podSpec(await render()).topologySpreadConstraints).toBeUndefined();
  });

  it('names objects after nameOverride and fullnameOverride', async () => {
    const names = (objects: Obj[]) => [...new Set(objects.map((o) => o.metadata.name))].sort();
    expect(names(await render('--set', 'fullnameOverride=b2b-op'))).toEqual([
      'b2b-op',
      'b2b-op-crds',
      'b2b-op-leader-election',
      'b2b-op-metrics',
    ]);
    const renamed = await render(
      '--set',
      'nameOverride=certs',
      '--set',
      'monitoring.serviceMonitor.enabled=true',
    );
    expect(names(renamed)).toEqual([
      `${release}-certs`,
      `${release}-certs-crds`,
      `${release}-certs-leader-election`,
      `${release}-certs-metrics`,
    ]);
    const deployment = renamed.find((o) => o.kind === 'Deployment') as unknown as Deployment & Obj;
    expect(deployment.metadata.labels?.['app.kubernetes.io/name']).toBe('certs');
    // The alert rules select job="b2b-certificate-operator", whatever the name.
    const monitor = renamed.find((o) => o.kind === 'ServiceMonitor');
    expect(JSON.stringify(monitor?.spec)).toContain(
      '{"targetLabel":"job","replacement":"b2b-certificate-operator"}',
    );
  });

  it('caps the heap only when there is a memory limit to follow', async () => {
    for (const unset of ['resources.limits=null', 'resources.limits.memory=null']) {
      const env = podSpec(await render('--set', unset)).containers[0]!.env ?? [];
      expect(env.find((e) => e.name === 'NODE_OPTIONS')?.value, unset).toBe(
        '--max-semi-space-size=1',
      );
    }
  });

  it('ships the CRDs with the annotations that keep them on uninstall and prune', async () => {
    const crds = (await render('--include-crds')).filter(
      (o) => o.kind === 'CustomResourceDefinition',
    );
    expect(crds).toHaveLength(2);
    for (const crd of crds) expect(crd.metadata.annotations).toMatchObject(crdKeepAnnotations);
  });

  it('refuses a memory limit the heap cap cannot follow (1.5Gi would give --max-old-space-size=0)', async () => {
    for (const limit of ['1.5Gi', '512M']) {
      const result = await helmRun([
        'template',
        release,
        chart,
        '-n',
        namespace,
        '--set',
        `resources.limits.memory=${limit}`,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(
        `must be a whole number of Mi or Gi (e.g. 384Mi, 2Gi), not "${limit}"`,
      );
    }
  });

  it('shards: [a, b] renders one Deployment per shard, each with its selector, pod label and Lease, and the first one takes the rest', async () => {
    const objects = await render('--set', 'shards={a,b}', '--set', 'watchNamespace=edi\\,as2');
    const deployments = objects.filter((o) => o.kind === 'Deployment') as unknown as (Deployment &
      Obj)[];
    expect(deployments.map((d) => d.metadata.name)).toEqual([
      `${release}-b2b-certificate-operator`,
      `${release}-b2b-certificate-operator-shard-a`,
      `${release}-b2b-certificate-operator-shard-b`,
    ]);
    const args = deployments.map((d) => d.spec.template.spec.containers[0]!.args ?? []);
    expect(args[0]).toEqual(
      expect.arrayContaining([
        '--watch-label-selector=integration.b2b.dev/shard notin (a,b)',
        '--leader-election-id=b2b-certificate-operator', // the Lease it had before sharding
      ]),
    );
    expect(args[1]).toEqual(
      expect.arrayContaining([
        '--watch-label-selector=integration.b2b.dev/shard=a',
        `--leader-election-id=${release}-b2b-certificate-operator-shard-a`,
      ]),
    );
    // The first Deployment's selector is what it always was (a selector cannot change).
    const selectorOf = (d: Obj | undefined) =>
      (d?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector
        ?.matchLabels;
    const unsharded = (await render()).find((o) => o.kind === 'Deployment');
    expect(selectorOf(deployments[0])).toEqual(selectorOf(unsharded));
    expect(selectorOf(deployments[1])).toMatchObject({ 'integration.b2b.dev/shard': 'a' });
    expect(deployments[1]!.spec.template.metadata?.labels).toMatchObject({
      'integration.b2b.dev/shard': 'a',
    });
    for (const d of deployments) expect(operatorDeploymentProblems(d)).toEqual([]);
    // Several watched namespaces: a Role and RoleBinding in each, no ClusterRole for Secrets.
    const roles = objects.filter(
      (o) => o.kind === 'Role' && o.metadata.name === `${release}-b2b-certificate-operator`,
    );
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['edi', 'as2']);
    expect(
      objects.some(
        (o) =>
          o.kind === 'ClusterRole' && o.metadata.name === `${release}-b2b-certificate-operator`,
      ),
    ).toBe(false);
    // A budget per Deployment, none over another's pods (a pod under two cannot be evicted).
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    expect(budgets.map((b) => b.metadata.name)).toEqual(deployments.map((d) => d.metadata.name));
    expect(budgets[0]?.spec).toMatchObject({
      selector: {
        matchExpressions: [{ key: 'integration.b2b.dev/shard', operator: 'DoesNotExist' }],
      },
    });
    expect(selectorOf(budgets[2])).toMatchObject({ 'integration.b2b.dev/shard': 'b' });
    // The API server takes it all as rendered.
    const shardsNamespace = `${namespace}-shards`;
    for (const ns of [shardsNamespace, 'edi', 'as2']) await kubectl(['create', 'namespace', ns]);
    const manifests = succeeded(
      await helmRun([
        'template',
        release,
        chart,
        '-n',
        shardsNamespace,
        '--set',
        'shards={a,b}',
        '--set',
        'watchNamespace=edi\\,as2',
      ]),
    );
    const applied = await eventuallySucceeds(() =>
      kubectl(
        ['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', '-'],
        manifests,
      ),
    );
    expect(applied).toMatch(/deployment.apps\/\S+-shard-b serverside-applied \(server dry run\)/);
    expect(await refusal('--set', 'shards={A_B}')).toMatch(/shards/);
    expect(
      await refusal('--set', 'shards={a}', '--set', 'extraArgs={--leader-election-id=x}'),
    ).toMatch(/extraArgs may not set --leader-election-id=x with shards/);
  });

  it('helm template | kubectl apply --server-side --dry-run=server', async () => {
    await installPrometheusOperatorCrds();
    succeeded(await kubectl(['create', 'namespace', namespace]));
    // watchNamespace=b2b puts the operator's Role there: the namespace must exist.
    await kubectl(['create', 'namespace', 'b2b']);
    const manifests = succeeded(
      await helmRun(['template', release, chart, '-n', namespace, '--include-crds', ...everything]),
    );
    const out = await eventuallySucceeds(() =>
      kubectl(
        ['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', '-'],
        manifests,
      ),
    );
    expect(out).toMatch(
      /deployment.apps\/b2b-\w+-b2b-certificate-operator serverside-applied \(server dry run\)/,
    );
    expect(out).toMatch(/prometheusrule.monitoring.coreos.com\/\S+ serverside-applied/);
  });

  it('installs, then upgrades with changed values', async () => {
    const installed = succeeded(await helmRun(['install', release, chart, '-n', namespace]));
    expect(installed).toMatch(/STATUS: deployed/);
    // NOTES.txt: nothing to run from a checkout of this repository; the CRDs from the chart.
    const notes = installed.slice(installed.indexOf('NOTES:'));
    expect(notes).not.toMatch(/-f crds\/|charts\/|hack\/|examples\//);
    expect(notes).toContain('helm show crds');
    const name = `${release}-b2b-certificate-operator`;
    const deployment = async () =>
      JSON.parse(
        succeeded(await kubectl(['get', 'deployment', name, '-n', namespace, '-o', 'json'])),
      ) as Deployment;
    expect(operatorDeploymentProblems(await deployment())).toEqual([]);
    succeeded(
      await helmRun([
        'upgrade',
        release,
        chart,
        '-n',
        namespace,
        '--set',
        'replicas=3',
        '--set',
        'logLevel=debug',
        '--set',
        'resources.limits.memory=2Gi',
      ]),
    );
    const upgraded = await deployment();
    expect(upgraded.spec.replicas).toBe(3);
    const env = Object.fromEntries(
      (upgraded.spec.template.spec.containers[0]!.env ?? []).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      B2B_LOG_LEVEL: 'debug',
      NODE_OPTIONS: '--max-old-space-size=1365 --max-semi-space-size=1',
    });
    const history = succeeded(await helmRun(['history', release, '-n', namespace, '-o', 'json']));
    expect((JSON.parse(history) as { status: string }[]).map((r) => r.status)).toEqual([
      'superseded',
      'deployed',
    ]);
  });
});
