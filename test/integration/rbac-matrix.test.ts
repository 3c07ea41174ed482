// Security as tests: what the operator's identity may do, asked of the real API server's RBAC
// (a SubjectAccessReview, what `kubectl auth can-i --as=...` sends) for every way the project
// installs it: deploy/ (kustomize), deploy/namespaced/, and the Helm chart with and without
// watchNamespace. Everything the operator needs, nothing else; with a watch namespace, no
// Secret (or anything else of ours) readable outside it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, testenv } from '../support/cluster.ts';
import { kubectl, run, succeeded } from '../support/kubectl.ts';
import { goTool, TOOL_BUILD_TIMEOUT_MS } from '../support/tools.ts';

interface Check {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  /** A resourceNames-limited rule: the object's name. */
  name?: string;
  /** 'watched': the watched namespace; 'own': the operator's; 'other': neither; 'cluster': all. */
  where: 'watched' | 'own' | 'other' | 'cluster';
}

const b2b = 'integration.b2b.dev';
const all = (verbs: string[], rest: Omit<Check, 'verb'>): Check[] =>
  verbs.map((verb) => ({ verb, ...rest }));

/** What the operator does, each in the namespace it does it in. */
const needs: Check[] = [
  ...all(['get', 'list', 'watch', 'patch'], {
    resource: 'certificates',
    group: b2b,
    where: 'watched',
  }),
  ...all(['get', 'list', 'watch', 'patch'], {
    resource: 'integrationaccounts',
    group: b2b,
    where: 'watched',
  }),
  ...all(['get', 'patch', 'update'], {
    resource: 'certificates',
    subresource: 'status',
    group: b2b,
    where: 'watched',
  }),
  ...all(['get', 'patch', 'update'], {
    resource: 'integrationaccounts',
    subresource: 'status',
    group: b2b,
    where: 'watched',
  }),
  {
    verb: 'update',
    resource: 'certificates',
    subresource: 'finalizers',
    group: b2b,
    where: 'watched',
  },
  // Sources and kubernetes-vault keys (read), the store (written). RBAC cannot narrow writes
  // to the store's labels: the operator itself never writes a Secret it does not own.
  ...all(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], {
    resource: 'secrets',
    where: 'watched',
  }),
  ...all(['get', 'list', 'watch'], { resource: 'configmaps', where: 'watched' }),
  ...all(['create', 'patch'], { resource: 'events', where: 'watched' }),
  ...all(['create', 'patch'], { resource: 'events', group: 'events.k8s.io', where: 'watched' }),
  ...all(['get', 'create', 'update'], {
    resource: 'leases',
    group: 'coordination.k8s.io',
    where: 'own',
  }),
  // A team's own Azure identity (workloadIdentity.serviceAccountName): the ServiceAccount's
  // annotations, and a token of it for Entra ID.
  { verb: 'get', resource: 'serviceaccounts', where: 'watched' },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token', where: 'watched' },
  // Before removing a store entry: is the Certificate CRD being deleted (an uninstall)?
  {
    verb: 'get',
    resource: 'customresourcedefinitions',
    group: 'apiextensions.k8s.io',
    name: 'certificates.integration.b2b.dev',
    where: 'cluster',
  },
];

/** What it must not be able to do anywhere it is installed. */
const forbidden: Check[] = [
  ...all(['create', 'update', 'delete', 'deletecollection'], {
    resource: 'certificates',
    group: b2b,
    where: 'watched',
  }),
  ...all(['create', 'update', 'delete'], {
    resource: 'integrationaccounts',
    group: b2b,
    where: 'watched',
  }),
  { verb: 'deletecollection', resource: 'secrets', where: 'watched' },
  ...all(['create', 'update', 'patch', 'delete'], { resource: 'configmaps', where: 'watched' }),
  ...all(['delete', 'list', 'watch'], {
    resource: 'leases',
    group: 'coordination.k8s.io',
    where: 'own',
  }),
  { verb: 'get', resource: 'leases', group: 'coordination.k8s.io', where: 'other' },
  { verb: 'delete', resource: 'events', where: 'watched' },
  ...all(['get', 'list', 'create'], { resource: 'pods', where: 'watched' }),
  { verb: 'create', resource: 'pods', subresource: 'exec', where: 'watched' },
  ...all(['get', 'create', 'update'], { resource: 'deployments', group: 'apps', where: 'own' }),
  // ServiceAccounts: read one by name and request its token, nothing more.
  ...all(['list', 'watch', 'create', 'update', 'patch', 'delete'], {
    resource: 'serviceaccounts',
    where: 'watched',
  }),
  ...all(['get', 'list'], { resource: 'namespaces', where: 'cluster' }),
  ...all(['get', 'list', 'create', 'update', 'delete'], {
    resource: 'customresourcedefinitions',
    group: 'apiextensions.k8s.io',
    where: 'cluster',
  }),
  ...all(['get', 'update', 'delete'], {
    resource: 'customresourcedefinitions',
    group: 'apiextensions.k8s.io',
    name: 'certificates.cert-manager.io',
    where: 'cluster',
  }),
  ...all(['update', 'patch', 'delete'], {
    resource: 'customresourcedefinitions',
    group: 'apiextensions.k8s.io',
    name: 'certificates.integration.b2b.dev',
    where: 'cluster',
  }),
  ...all(['create', 'bind', 'escalate'], {
    resource: 'clusterroles',
    group: 'rbac.authorization.k8s.io',
    where: 'cluster',
  }),
  {
    verb: 'create',
    resource: 'rolebindings',
    group: 'rbac.authorization.k8s.io',
    where: 'watched',
  },
  { verb: 'list', resource: 'nodes', where: 'cluster' },
  ...all(['impersonate'], { resource: 'users', where: 'cluster' }),
  {
    verb: 'create',
    resource: 'subjectaccessreviews',
    group: 'authorization.k8s.io',
    where: 'cluster',
  },
];

/** With a watch namespace: nothing of the watched kinds outside it, nor cluster-wide. */
const outsideWatched: Check[] = [
  ...all(['get', 'list', 'watch'], { resource: 'secrets', where: 'other' }),
  ...all(['list', 'watch'], { resource: 'secrets', where: 'cluster' }),
  ...all(['create', 'update', 'patch', 'delete'], { resource: 'secrets', where: 'other' }),
  ...all(['get', 'list'], { resource: 'configmaps', where: 'other' }),
  { verb: 'list', resource: 'configmaps', where: 'cluster' },
  ...all(['get', 'list', 'patch'], { resource: 'certificates', group: b2b, where: 'other' }),
  { verb: 'list', resource: 'certificates', group: b2b, where: 'cluster' },
  { verb: 'get', resource: 'integrationaccounts', group: b2b, where: 'other' },
  { verb: 'create', resource: 'events', where: 'other' },
  // No other namespace's identity: neither its ServiceAccounts nor their tokens.
  { verb: 'get', resource: 'serviceaccounts', where: 'other' },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token', where: 'other' },
];

/** Without one, the watched kinds are needed cluster-wide (list and watch across namespaces). */
const clusterWide: Check[] = [
  ...all(['list', 'watch'], { resource: 'secrets', where: 'cluster' }),
  ...all(['list', 'watch'], { resource: 'configmaps', where: 'cluster' }),
  ...all(['list', 'watch'], { resource: 'certificates', group: b2b, where: 'cluster' }),
  ...all(['list', 'watch'], { resource: 'integrationaccounts', group: b2b, where: 'cluster' }),
];

interface Install {
  name: string;
  /** The operator's identity as the API server authenticates it. */
  user: string;
  groups: string[];
  own: string;
  /** Empty: all namespaces. */
  watched: string;
}

const serviceAccount = (namespace: string, name: string) => ({
  user: `system:serviceaccount:${namespace}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
});

async function canI(install: Install, check: Check, other: string): Promise<boolean> {
  const namespace = {
    watched: install.watched || other,
    own: install.own,
    other,
    cluster: '',
  }[check.where];
  const review = await adminClient().create<{ status?: { allowed?: boolean } }>(
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: install.user,
        groups: install.groups,
        resourceAttributes: {
          namespace,
          verb: check.verb,
          group: check.group ?? '',
          resource: check.resource,
          subresource: check.subresource ?? '',
          name: check.name ?? '',
        },
      },
    },
  );
  return review.status?.allowed === true;
}

const describeCheck = (c: Check) =>
  `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.group ? `.${c.group}` : ''}${c.name ? ` ${c.name}` : ''} in ${c.where}`;

/** The checks whose answer differs from `expected`. */
async function wrongAnswers(install: Install, checks: Check[], expected: boolean) {
  const other = `elsewhere-${randomBytes(3).toString('hex')}`;
  const answers = await Promise.all(checks.map((c) => canI(install, c, other)));
  return checks.filter((_, i) => answers[i] !== expected).map(describeCheck);
}

const suffix = randomBytes(3).toString('hex');
const created: string[] = [];

async function createNamespaces(...names: string[]) {
  for (const name of names) {
    succeeded(await kubectl(['create', 'namespace', name]));
    created.push(name);
  }
}

function matrix(install: () => Install) {
  it('allows everything the operator does', async () => {
    expect(await wrongAnswers(install(), needs, true)).toEqual([]);
  });
  it('allows nothing else', async () => {
    expect(await wrongAnswers(install(), forbidden, false)).toEqual([]);
  });
  it(
    install().watched
      ? 'allows no Secret (nor anything of ours) outside the watched namespace'
      : 'allows list and watch across namespaces, as watching all of them needs',
    async () => {
      const i = install();
      if (i.watched) expect(await wrongAnswers(i, outsideWatched, false)).toEqual([]);
      else expect(await wrongAnswers(i, clusterWide, true)).toEqual([]);
    },
  );
}

describe('RBAC of the operator, as the API server decides it', () => {
  afterAll(async () => {
    for (const name of created) await kubectl(['delete', 'namespace', name, '--wait=false']);
  });

  describe('deploy/ (kustomize; the test environment applied it)', () => {
    matrix(() => ({
      name: 'kustomize',
      ...serviceAccount('b2b-system', 'b2b-operator'),
      own: 'b2b-system',
      watched: '',
    }));
  });

  describe('the test environment’s operator user (bound to the same roles)', () => {
    matrix(() => ({
      name: 'testenv user',
      user: 'b2b-operator',
      groups: ['system:authenticated'],
      own: 'b2b-system',
      watched: '',
    }));
  });

  describe('deploy/namespaced/ (kustomize, watching one namespace)', () => {
    const own = `rbac-own-${suffix}`;
    const watched = `rbac-watched-${suffix}`;
    beforeAll(async () => {
      // Its one cluster-scoped pair (reading our CRDs) gets names of its own: deploy/'s are bound
      // to b2b-system.
      const rendered = succeeded(await kubectl(['kustomize', 'deploy/namespaced/']))
        .replaceAll('b2b-system', own)
        .replaceAll('name: b2b-operator-crds', `name: b2b-operator-crds-${suffix}`)
        .replace(/namespace: b2b$/gm, `namespace: ${watched}`);
      await createNamespaces(watched);
      succeeded(await kubectl(['apply', '--server-side', '-f', '-'], rendered));
      created.push(own);
    });
    afterAll(async () => {
      await kubectl([
        'delete',
        'clusterrole,clusterrolebinding',
        `b2b-operator-crds-${suffix}`,
        '--ignore-not-found',
      ]);
    });
    matrix(() => ({ name: 'namespaced', ...serviceAccount(own, 'b2b-operator'), own, watched }));
  });

  describe.each([
    ['the Helm chart, all namespaces', false],
    ['the Helm chart with watchNamespace', true],
  ] as const)('%s', (_, namespaced) => {
    const own = `rbac-helm-${namespaced ? 'ns' : 'all'}-${suffix}`;
    const watched = namespaced ? `rbac-helm-watched-${suffix}` : '';
    const release = `r${suffix}`;
    beforeAll(async () => {
      const helm = goTool('helm');
      const home = mkdtempSync(join(tmpdir(), 'b2b-helm-'));
      const env = {
        ...process.env,
        KUBECONFIG: testenv().adminKubeconfig,
        HELM_CACHE_HOME: join(home, 'c'),
        HELM_CONFIG_HOME: join(home, 'f'),
        HELM_DATA_HOME: join(home, 'd'),
      };
      const rendered = succeeded(
        await run(
          helm,
          [
            'template',
            release,
            'charts/b2b-certificate-operator',
            '-n',
            own,
            ...(watched ? ['--set', `watchNamespace=${watched}`] : []),
          ],
          { env },
        ),
      );
      await createNamespaces(own, ...(watched ? [watched] : []));
      succeeded(await kubectl(['apply', '--server-side', '-f', '-'], rendered));
    }, TOOL_BUILD_TIMEOUT_MS);
    afterAll(async () => {
      // The chart's cluster-scoped objects are named after the release (reading our CRDs: with
      // watchNamespace too).
      await kubectl([
        'delete',
        'clusterrole,clusterrolebinding',
        ...(namespaced ? [] : [`${release}-b2b-certificate-operator`]),
        `${release}-b2b-certificate-operator-crds`,
        '--ignore-not-found',
      ]);
    });
    matrix(() => ({
      name: 'helm',
      ...serviceAccount(own, `${release}-b2b-certificate-operator`),
      own,
      watched,
    }));
  });
});
