// The operator's requests ask for uncompressed responses: the API server gzips every response
// over 128 KB (a list of thousands of Certificates is tens of MB), which on loopback or a
// cluster network costs CPU on both sides and saves nothing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError, KubeClient } from '../../../src/kube/client.ts';
import { testCa } from '../../support/test-ca.ts';

describe('KubeClient', () => {
  let server: Server;
  let kubeconfig: string;
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    const ca = testCa('kube-client');
    server = createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
      seen.push(req.headers['accept-encoding']);
      if (req.url?.startsWith('/apis/missing.example')) {
        // What kube-apiserver answers for a group it does not serve (a CRD not installed).
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('404 page not found\n');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'SecretList', items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'b2b-client-')), 'kubeconfig');
    const caData = Buffer.from(readFileSync(ca.caFile)).toString('base64');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", certificate-authority-data: ${caData}}}]`,
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('asks for responses without compression (Accept-Encoding: identity)', async () => {
    const client = KubeClient.load(kubeconfig);
    await client.list('/api/v1/namespaces/x/secrets');
    expect(seen).toEqual(['identity']);
  });

  it('reports a plain-text error body as the API error it is (404: a CRD not installed)', async () => {
    const client = KubeClient.load(kubeconfig);
    const failure = await client
      .list('/apis/missing.example/v1/things')
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(KubeApiError);
    expect((failure as KubeApiError).status).toBe(404);
    expect((failure as KubeApiError).message).toContain('404 page not found');
  });
});
