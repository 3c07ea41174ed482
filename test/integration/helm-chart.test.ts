// The Helm chart, with Helm itself (built from the Go module proxy): lint, template into a
// server-side dry run, then install and upgrade into the test control plane (no kubelet:
// the test checks the stored objects).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { testenv } from '../support/cluster.ts';
import {
  eventuallySucceeds,
  installPrometheusOperatorCrds,
  kubectl,
  run,
  succeeded,
} from '../support/kubectl.ts';
import { operatorDeploymentProblems, type Deployment } from '../support/manifests.ts';
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
  'resources.limits.memory=512Mi',
  '--set',
  'extraEnv[0].name=B2B_RECHECK_INTERVAL',
  '--set',
  'extraEnv[0].value=30m',
  '--set',
  'nodeSelector.kubernetes\\.io/os=linux',
  '--set',
  'tolerations[0].key=dedicated,tolerations[0].operator=Exists',
];

interface Obj {
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

describe('helm chart', () => {
  let helm: string;
  let env: NodeJS.ProcessEnv;
  const release = `b2b-${Math.random().toString(16).slice(2, 8)}`;
  const namespace = `helm-${release}`;

  const helmRun = (args: string[]) => run(helm, args, { env });

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
      NODE_OPTIONS: '--max-old-space-size=341 --max-semi-space-size=8',
      B2B_WATCH_NAMESPACE: 'b2b',
      B2B_ALLOWED_VAULT_HOSTS: 'vault.example:8443,localhost:8443',
      B2B_RECHECK_INTERVAL: '30m',
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
      NODE_OPTIONS: '--max-old-space-size=1365 --max-semi-space-size=8',
    });
    const history = succeeded(await helmRun(['history', release, '-n', namespace, '-o', 'json']));
    expect((JSON.parse(history) as { status: string }[]).map((r) => r.status)).toEqual([
      'superseded',
      'deployed',
    ]);
  });
});
