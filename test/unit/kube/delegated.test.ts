// Users and clusters left to @kubernetes/client-node (exec plugins, proxies), against a loopback
// HTTPS server with its own CA: the context, the CA file and the connection pool it ends up with.
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../src/kube/client.ts';
import { loadConnection } from '../../../src/kube/credentials.ts';
import { testCa } from '../../support/test-ca.ts';

const dir = mkdtempSync(join(tmpdir(), 'kube-delegated-'));
let server: Server;
let proxy: HttpServer;
let serverUrl: string;
let proxyUrl: string;
let connects = 0;

const portOf = (s: Server | HttpServer) => {
  const address = s.address();
  return typeof address === 'object' && address ? address.port : 0;
};

beforeAll(async () => {
  const ca = testCa('kube-delegated');
  copyFileSync(ca.caFile, join(dir, 'ca.crt'));
  server = createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
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
});

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
});
