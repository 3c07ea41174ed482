// `b2b check api` against an API server that accepts connections and never answers (not even
// the TLS handshake), and
// against no cluster at all: --wait bounds the whole check (not each request's own timeout),
// and -o json reports a failure as JSON.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { selfSigned } from '../../support/certs.ts';

async function run(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main({
    argv,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => Buffer.from(''),
    env: {},
    cwd: tmpdir(),
    now: () => new Date(),
  });
  return { code, stdout, stderr };
}

describe('b2b check api', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let kubeconfig: string;

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'b2b-check-')), 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        // TLS that never starts: the CA is never asked (verification stays on)
        `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", certificate-authority-data: ${Buffer.from(selfSigned('ec256').pem).toString('base64')}}}]`,
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]',
        'current-context: x',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('gives up when --wait has passed, even while a request hangs', async () => {
    const started = Date.now();
    const { code, stdout } = await run([
      'check',
      'api',
      '--wait',
      '2s',
      '--kubeconfig',
      kubeconfig,
      '-o',
      'json',
    ]);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { crds: unknown; operator: unknown };
    expect(report.crds).toMatch(/within --wait/);
    expect(report.operator).toBe('not checked');
  });

  it('-o json: a failure to reach the cluster is reported as JSON', async () => {
    const { code, stdout } = await run([
      'check',
      'api',
      '--kubeconfig',
      join(tmpdir(), 'no-such-kubeconfig'),
      '-o',
      'json',
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { error?: string };
    expect(report.error).toMatch(/no-such-kubeconfig|ENOENT/);
  });
});
