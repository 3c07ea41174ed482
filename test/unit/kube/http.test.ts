// The HTTP layer under the kube client, against a loopback server: a request ends on its
// caller's signal or its timeout, and leaves nothing behind on long-lived signals.
import { getEventListeners } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, Agent, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../../src/kube/client.ts';
import { send } from '../../../src/kube/http.ts';

let server: Server;
let base: string;
const authorizations: string[] = [];
const revoked = new Set<string>();
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/slow') return; // never answers
    if (req.url === '/auth') {
      authorizations.push(req.headers.authorization ?? '');
      res.statusCode = revoked.has(req.headers.authorization ?? '') ? 401 : 200;
      res.end(JSON.stringify({ kind: 'Status', code: res.statusCode }));
      return;
    }
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('send', () => {
  const agent = new Agent({ keepAlive: true });

  it('reads a response, and leaves no listener on the long-lived signals it was given', async () => {
    const operatorLifetime = new AbortController().signal;
    for (let i = 0; i < 20; i++) {
      const response = await send(new URL(`${base}/x${i}`), {
        method: 'GET',
        headers: {},
        agent,
        signals: [operatorLifetime],
        timeoutMs: 30_000,
      });
      expect(response.status).toBe(200);
      expect(JSON.parse(await response.text())).toEqual({ path: `/x${i}` });
    }
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(operatorLifetime, 'abort')).toHaveLength(0);
  });

  it('ends on its timeout, and on any of its signals', async () => {
    const timedOut = send(new URL(`${base}/slow`), {
      method: 'GET',
      headers: {},
      agent,
      signals: [],
      timeoutMs: 200,
    });
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });
    const cancel = new AbortController();
    const cancelled = send(new URL(`${base}/slow`), {
      method: 'GET',
      headers: {},
      agent,
      signals: [new AbortController().signal, cancel.signal],
    });
    setTimeout(() => cancel.abort(new Error('leadership lost')), 50);
    await expect(cancelled).rejects.toThrow('leadership lost');
    expect(getEventListeners(cancel.signal, 'abort')).toHaveLength(0);
    // Already aborted: nothing is sent.
    await expect(
      send(new URL(`${base}/x`), { method: 'GET', headers: {}, agent, signals: [cancel.signal] }),
    ).rejects.toThrow('leadership lost');
  });

  it('releases its signals when the request cannot even be made', async () => {
    const operatorLifetime = new AbortController().signal;
    const wrongAgent = send(new URL(`${base}/x`), {
      method: 'GET',
      headers: {},
      agent: new HttpsAgent(),
      signals: [operatorLifetime],
    });
    await expect(wrongAgent).rejects.toThrow(/protocol/i);
    expect(getEventListeners(operatorLifetime, 'abort')).toHaveLength(0);
  });
});

describe('KubeClient', () => {
  it.each([false, true])(
    'talks plain HTTP to an http:// server (kubectl proxy), keeping its connection alive (insecure-skip-tls-verify: %s)',
    async (skip) => {
      const client = KubeClient.fromKubeconfig(`apiVersion: v1
clusters: [{name: c, cluster: {server: "${base}", insecure-skip-tls-verify: ${skip}}}]
users: [{name: u, user: {token: abc}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
      const connections = new Set<unknown>();
      const onConnection = (socket: unknown) => connections.add(socket);
      server.on('connection', onConnection);
      try {
        expect(await client.get('/api')).toEqual({ path: '/api' });
        expect(await client.get('/apis')).toEqual({ path: '/apis' });
        expect(connections.size).toBe(1);
      } finally {
        server.off('connection', onConnection);
      }
    },
  );

  it('reads a token file again after a 401 and retries once when the token changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-401-'));
    writeFileSync(join(dir, 'token'), 'one\n');
    const client = KubeClient.fromKubeconfig(
      `apiVersion: v1
clusters: [{name: c, cluster: {server: "${base}"}}]
users: [{name: u, user: {tokenFile: token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
      dir,
    );
    expect(await client.get('/auth')).toMatchObject({ code: 200 });
    // Rotated and the old token revoked within the client's 10 s reread interval.
    writeFileSync(join(dir, 'token'), 'two\n');
    revoked.add('Bearer one');
    authorizations.length = 0;
    expect(await client.get('/auth')).toMatchObject({ code: 200 });
    expect(authorizations).toEqual(['Bearer one', 'Bearer two']);
    // Refused, and the file holds no other token: no second try with the same one.
    revoked.add('Bearer two');
    authorizations.length = 0;
    await expect(client.get('/auth')).rejects.toMatchObject({ status: 401 });
    expect(authorizations).toEqual(['Bearer two']);
  });
});
