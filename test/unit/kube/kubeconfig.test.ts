// The kubeconfig loader against the shapes kubectl, kind, EKS/AKS/GKE and pods produce: which
// server, credentials and namespace it picks, and which users it leaves to client-node.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConnection, readCredentials } from '../../../src/kube/credentials.ts';
import {
  KubeconfigError,
  inClusterConnection,
  resolveKubeconfig,
  type KubeconfigFile,
} from '../../../src/kube/kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const kind: KubeconfigFile['doc'] = {
  clusters: [
    {
      name: 'kind-kind',
      cluster: { server: 'https://127.0.0.1:6443/', 'certificate-authority-data': b64('CA') },
    },
  ],
  users: [
    {
      name: 'kind-kind',
      user: {
        'client-certificate-data': b64('CERT'),
        'client-key-data': b64('KEY'),
      },
    },
  ],
  contexts: [{ name: 'kind-kind', context: { cluster: 'kind-kind', user: 'kind-kind' } }],
  'current-context': 'kind-kind',
};

describe('resolveKubeconfig', () => {
  it('reads inline client certificates and CA (kind, kubeadm), without a trailing slash', () => {
    const c = resolveKubeconfig([{ dir: '/x', doc: kind }]);
    expect(c.server).toBe('https://127.0.0.1:6443');
    expect(c.namespace).toBeUndefined();
    expect(c.ca).toEqual({ data: Buffer.from('CA') });
    expect(c.cert).toEqual({ data: Buffer.from('CERT') });
    expect(c.key).toEqual({ data: Buffer.from('KEY') });
    expect(c.token).toBeUndefined();
    expect(c.delegate).toBeUndefined();
  });

  it('takes relative file names from the kubeconfig file that names them', () => {
    const c = resolveKubeconfig([
      {
        dir: '/home/u/.kube',
        doc: {
          clusters: [
            { name: 'c', cluster: { server: 'https://k', 'certificate-authority': 'ca.crt' } },
          ],
          users: [
            {
              name: 'u',
              user: { 'client-certificate': 'certs/u.crt', 'client-key': '/abs/u.key' },
            },
          ],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'b2b' } }],
          'current-context': 'x',
        },
      },
    ]);
    expect(c.ca).toEqual({ file: '/home/u/.kube/ca.crt' });
    expect(c.cert).toEqual({ file: '/home/u/.kube/certs/u.crt' });
    expect(c.key).toEqual({ file: '/abs/u.key' });
    expect(c.namespace).toBe('b2b');
  });

  it('reads bearer tokens inline or from a tokenFile, basic auth and impersonation', () => {
    const doc = (user: Record<string, unknown>): KubeconfigFile['doc'] => ({
      ...kind,
      users: [{ name: 'kind-kind', user }],
    });
    expect(resolveKubeconfig([{ dir: '/d', doc: doc({ token: 'abc' }) }]).token).toEqual({
      data: Buffer.from('abc'),
    });
    expect(resolveKubeconfig([{ dir: '/d', doc: doc({ tokenFile: 't' }) }]).token).toEqual({
      file: '/d/t',
    });
    const basic = resolveKubeconfig([
      { dir: '/d', doc: doc({ username: 'a', password: 'b', as: 'someone' }) },
    ]);
    expect(basic.basic).toEqual({ username: 'a', password: 'b' });
    expect(basic.impersonate).toBe('someone');
  });

  it('merges a KUBECONFIG list the way kubectl does: the first file that names an entry wins', () => {
    const second: KubeconfigFile['doc'] = {
      clusters: [
        { name: 'kind-kind', cluster: { server: 'https://shadowed' } },
        { name: 'prod', cluster: { server: 'https://prod:443' } },
      ],
      users: [{ name: 'prod-user', user: { token: 'p' } }],
      contexts: [
        { name: 'prod', context: { cluster: 'prod', user: 'prod-user', namespace: 'ops' } },
      ],
      'current-context': 'prod',
    };
    const files = [
      { dir: '/a', doc: kind },
      { dir: '/b', doc: second },
    ];
    expect(resolveKubeconfig(files).server).toBe('https://127.0.0.1:6443');
    const noCurrent = [{ dir: '/a', doc: { ...kind, 'current-context': undefined } }, files[1]!];
    expect(resolveKubeconfig(noCurrent)).toMatchObject({
      server: 'https://prod:443',
      namespace: 'ops',
      token: { data: Buffer.from('p') },
    });
    expect(resolveKubeconfig(files, 'prod').server).toBe('https://prod:443');
  });

  it('leaves exec plugins, auth providers, proxies and skipped TLS checks to client-node', () => {
    const withUser = (user: Record<string, unknown>) =>
      resolveKubeconfig([{ dir: '/', doc: { ...kind, users: [{ name: 'kind-kind', user }] } }]);
    expect(
      withUser({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'kubelogin' } })
        .delegate,
    ).toMatch(/exec plugin/);
    expect(withUser({ 'auth-provider': { name: 'oidc', config: {} } }).delegate).toMatch(
      /auth provider/,
    );
    const withCluster = (cluster: Record<string, unknown>) =>
      resolveKubeconfig([
        { dir: '/', doc: { ...kind, clusters: [{ name: 'kind-kind', cluster }] } },
      ]);
    expect(withCluster({ server: 'https://k', 'proxy-url': 'http://p:3128' }).delegate).toMatch(
      /proxy/,
    );
    expect(withCluster({ server: 'https://k', 'insecure-skip-tls-verify': true }).delegate).toMatch(
      /skips TLS/,
    );
    // kubectl proxy's plain http is ours, as kubectl takes it (client-node wants skip-tls-verify).
    expect(withCluster({ server: 'http://127.0.0.1:8001' }).delegate).toBeUndefined();
  });

  it('says what is missing', () => {
    expect(() => resolveKubeconfig([{ dir: '/', doc: {} }])).toThrow(KubeconfigError);
    expect(() => resolveKubeconfig([{ dir: '/', doc: kind }], 'nope')).toThrow(/no context nope/);
    expect(() => resolveKubeconfig([{ dir: '/', doc: { ...kind, clusters: [] } }])).toThrow(
      /no known cluster/,
    );
  });
});

describe('inClusterConnection', () => {
  it('uses the service host and port (IPv6 in brackets), the CA and the rotating token file', () => {
    const c = inClusterConnection(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      'b2b-system',
      '/sa',
    );
    expect(c).toEqual({
      server: 'https://[fd00::1]:443',
      namespace: 'b2b-system',
      ca: { file: '/sa/ca.crt' },
      token: { file: '/sa/token' },
    });
    expect(() => inClusterConnection({}, undefined, '/sa')).toThrow(/KUBERNETES_SERVICE_HOST/);
  });
});

describe('loadConnection and readCredentials (files)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  const yaml = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: ca.crt
users:
- name: op
  user:
    tokenFile: token
contexts:
- name: local
  context: { cluster: local, user: op, namespace: team-a }
current-context: local
`;
  writeFileSync(join(dir, 'config.yaml'), yaml);
  writeFileSync(join(dir, 'ca.crt'), 'CA PEM');
  writeFileSync(join(dir, 'token'), 'first\n');

  it('reads a YAML kubeconfig, and a token file again when it rotates', async () => {
    const loaded = loadConnection(join(dir, 'config.yaml'));
    expect(loaded.connection).toMatchObject({
      server: 'https://127.0.0.1:6443',
      namespace: 'team-a',
    });
    const first = await readCredentials(loaded);
    expect(first.headers).toEqual({ authorization: 'Bearer first' });
    writeFileSync(join(dir, 'token'), 'second\n');
    const second = await readCredentials(loaded);
    expect(second.headers).toEqual({ authorization: 'Bearer second' });
    // The TLS material did not change: the connection pool is kept.
    expect(second.tls).toBe(first.tls);
    writeFileSync(join(dir, 'ca.crt'), 'rotated CA PEM');
    expect((await readCredentials(loaded)).tls).not.toBe(first.tls);
  });

  it('fails on a missing CA or client certificate file at the first read, naming it; keeps the last material on a later failed reread', async () => {
    const files = (ca: string, cert: string) => {
      const config = join(dir, `tls-${ca}-${cert}.yaml`);
      writeFileSync(
        config,
        `apiVersion: v1
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", certificate-authority: ${ca}}}]
users: [{name: u, user: {client-certificate: ${cert}, client-key: client.key}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
      );
      return config;
    };
    writeFileSync(join(dir, 'client.crt'), 'CERT PEM');
    writeFileSync(join(dir, 'client.key'), 'KEY PEM');
    await expect(
      readCredentials(loadConnection(files('typo-ca.crt', 'client.crt'))),
    ).rejects.toThrow(join(dir, 'typo-ca.crt'));
    await expect(readCredentials(loadConnection(files('ca.crt', 'typo.crt')))).rejects.toThrow(
      join(dir, 'typo.crt'),
    );
    // Rotation: a file briefly missing keeps the material read before.
    writeFileSync(join(dir, 'rotating.crt'), 'CERT PEM');
    const warnings: string[] = [];
    const loaded = loadConnection(files('ca.crt', 'rotating.crt'));
    loaded.warn = (msg) => warnings.push(msg);
    const first = await readCredentials(loaded);
    rmSync(join(dir, 'rotating.crt'));
    const during = await readCredentials(loaded);
    expect(during.tls).toBe(first.tls);
    expect(warnings.join()).toContain(join(dir, 'rotating.crt'));
  });

  it('fails closed on an empty CA or client certificate file: an error at the first read, the last material kept on a later reread', async () => {
    const config = (name: string, ca: string, cert: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        `apiVersion: v1
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", certificate-authority: ${ca}}}]
users: [{name: u, user: {token: t, client-certificate: ${cert}, client-key: client.key}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
      );
      return file;
    };
    writeFileSync(join(dir, 'client.crt'), 'CERT PEM');
    writeFileSync(join(dir, 'client.key'), 'KEY PEM');
    // An empty CA would leave Node's default roots in charge of the bearer token.
    writeFileSync(join(dir, 'empty-ca.crt'), '');
    await expect(
      readCredentials(loadConnection(config('empty-ca', 'empty-ca.crt', 'client.crt'))),
    ).rejects.toThrow(`${join(dir, 'empty-ca.crt')} is empty`);
    writeFileSync(join(dir, 'empty.crt'), '');
    await expect(
      readCredentials(loadConnection(config('empty-cert', 'ca.crt', 'empty.crt'))),
    ).rejects.toThrow(`${join(dir, 'empty.crt')} is empty`);
    // Rotation caught mid-write: the CA file is truncated, then written again.
    const caFile = join(dir, 'rotating-ca.crt');
    writeFileSync(caFile, 'CA PEM');
    const warnings: string[] = [];
    const loaded = loadConnection(config('rotating-ca', 'rotating-ca.crt', 'client.crt'));
    loaded.warn = (msg) => warnings.push(msg);
    const first = await readCredentials(loaded);
    writeFileSync(caFile, '');
    const during = await readCredentials(loaded);
    expect(during.tls).toBe(first.tls);
    expect((during.agent() as HttpsAgent).options.ca).toEqual(Buffer.from('CA PEM'));
    expect(warnings.join()).toContain(`${caFile} is empty`);
  });

  it('reads a JSON kubeconfig from a KUBECONFIG list, skipping files that do not exist', () => {
    const json = join(dir, 'config.json');
    writeFileSync(json, JSON.stringify(kind));
    const loaded = loadConnection(undefined, {
      KUBECONFIG: [join(dir, 'missing'), json, join(dir, 'config.yaml')].join(delimiter),
    });
    expect(loaded.connection.server).toBe('https://127.0.0.1:6443');
    expect(loaded.connection.cert).toEqual({ data: Buffer.from('CERT') });
    expect(loaded.origin).toEqual({ kind: 'files', files: [json, join(dir, 'config.yaml')] });
    expect(() => loadConnection(undefined, { KUBECONFIG: join(dir, 'missing') })).toThrow(
      /none of KUBECONFIG/,
    );
  });
});
