// Users and clusters left to @kubernetes/client-node (exec plugins, proxies), against a loopback
// HTTPS server with its own CA: the context, the CA file and the connection pool it ends up with.
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, KubeClient } from '../../../src/kube/client.ts';
import { loadConnection } from '../../../src/kube/credentials.ts';
import { testCa } from '../../support/test-ca.ts';

const dir = mkdtempSync(join(tmpdir(), 'kube-delegated-'));
let server: Server;
let proxy: HttpServer;
let serverUrl: string;
let proxyUrl: string;
let connects = 0;
const seen: string[] = [];

const portOf = (s: Server | HttpServer) => {
  const address = s.address();
  return typeof address === 'object' && address ? address.port : 0;
};

beforeAll(async () => {
  const ca = testCa('kube-delegated');
  copyFileSync(ca.caFile, join(dir, 'ca.crt'));
  server = createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    const authorization = req.headers.authorization ?? '';
    seen.push(authorization);
    // Tokens the API server no longer accepts (revoked, or expired before their stated time).
    if (/^Bearer (revoked-1|always-refused-\d+)$/.test(authorization)) {
      res.statusCode = 401;
      res.end(JSON.stringify({ kind: 'Status', code: 401, reason: 'Unauthorized' }));
      return;
    }
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  serverUrl = `https://127.0.0.1:${portOf(server)}`;
  // An HTTP CONNECT proxy that counts the tunnels it opens.
  proxy = createHttpServer();
  proxy.on('connect', (req, socket, head) => {
    connects++;
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${portOf(proxy)}`;
  const plugin = join(dir, 'credential-plugin.sh');
  writeFileSync(
    plugin,
    `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token"}}'\n`,
  );
  chmodSync(plugin, 0o755);
  // Plugins that hand out a new token each time they run: PREFIX-1, PREFIX-2, ...
  for (const prefix of ['revoked', 'always-refused']) {
    const counting = join(dir, `${prefix}-plugin.sh`);
    writeFileSync(
      counting,
      `#!/bin/sh
n=$(cat "$0.count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$0.count"
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${prefix}-'$n'"}}'
`,
    );
    chmodSync(counting, 0o755);
  }
});

const runsOf = (prefix: string) =>
  Number(readFileSync(join(dir, `${prefix}-plugin.sh.count`), 'utf8'));

const withUser = (user: string) => `apiVersion: v1
clusters: [{name: c, cluster: {server: "${serverUrl}", certificate-authority: ca.crt}}]
users: [{name: u, user: ${user}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

afterAll(() => {
  server.closeAllConnections();
  server.close();
  proxy.close();
});

const execUser = () =>
  `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(dir, 'credential-plugin.sh')}, interactiveMode: Never}}}]`;

describe('a user left to client-node', () => {
  it('keeps the context chosen across a KUBECONFIG list whose first file has no current-context', async () => {
    const clusters = join(dir, 'clusters.yaml');
    const contexts = join(dir, 'contexts.yaml');
    writeFileSync(
      clusters,
      `apiVersion: v1
clusters: [{name: c, cluster: {server: "${serverUrl}", certificate-authority: ca.crt}}]
${execUser()}
`,
    );
    writeFileSync(
      contexts,
      `apiVersion: v1
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const client = new KubeClient(
      loadConnection(undefined, { KUBECONFIG: [clusters, contexts].join(delimiter) }),
    );
    expect(await client.get('/api')).toEqual({ authorization: 'Bearer exec-token' });
  });

  it("takes a kubeconfig text's relative CA file from its directory", async () => {
    const client = KubeClient.fromKubeconfig(
      `apiVersion: v1
clusters: [{name: c, cluster: {server: "${serverUrl}", certificate-authority: ca.crt}}]
${execUser()}
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
      dir,
    );
    expect(await client.get('/api')).toEqual({ authorization: 'Bearer exec-token' });
  });

  it('keeps the tunnel through a proxy-url alive between requests', async () => {
    const config = join(dir, 'proxied.yaml');
    writeFileSync(
      config,
      `apiVersion: v1
clusters: [{name: c, cluster: {server: "${serverUrl}", certificate-authority: ca.crt, proxy-url: "${proxyUrl}"}}]
users: [{name: u, user: {token: proxied}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const client = new KubeClient(loadConnection(config));
    connects = 0;
    for (let i = 0; i < 3; i++)
      expect(await client.get('/api')).toEqual({ authorization: 'Bearer proxied' });
    expect(connects).toBe(1);
  });

  it('runs the exec plugin again after a 401 and retries the request once with the new token', async () => {
    const plugin = (prefix: string) =>
      `{exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(dir, `${prefix}-plugin.sh`)}, interactiveMode: Never}}`;
    // The first token is refused (revoked before the time it said it expires): a new one is asked for.
    const client = KubeClient.fromKubeconfig(withUser(plugin('revoked')), dir);
    // Requests refused together ask the plugin for one new token between them.
    const answers = await Promise.all([1, 2, 3].map(() => client.get('/api')));
    expect(answers).toEqual(Array(3).fill({ authorization: 'Bearer revoked-2' }));
    expect(runsOf('revoked')).toBe(2);
    expect(await client.get('/api')).toEqual({ authorization: 'Bearer revoked-2' });
    expect(runsOf('revoked')).toBe(2);
    // A token refused again after the refresh: one retry, then the 401.
    seen.length = 0;
    const refused = KubeClient.fromKubeconfig(withUser(plugin('always-refused')), dir);
    const err = await refused.get('/api').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).status).toBe(401);
    expect(seen).toEqual(['Bearer always-refused-1', 'Bearer always-refused-2']);
  });

  it('merges a KUBECONFIG list with the same names in two files as kubectl does: the first file wins', async () => {
    const first = join(dir, 'first.yaml');
    const second = join(dir, 'second.yaml');
    writeFileSync(
      first,
      withUser(
        `{exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(dir, 'credential-plugin.sh')}, interactiveMode: Never}}`,
      ),
    );
    writeFileSync(
      second,
      `apiVersion: v1
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: shadowed}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: shadowed}}]
current-context: x
`,
    );
    const loaded = loadConnection(undefined, { KUBECONFIG: [first, second].join(delimiter) });
    expect(loaded.connection.delegate).toMatch(/exec plugin/);
    const client = new KubeClient(loaded);
    expect(await client.get('/api')).toEqual({ authorization: 'Bearer exec-token' });
  });
});
