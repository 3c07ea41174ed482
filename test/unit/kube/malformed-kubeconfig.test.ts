// A kubeconfig with a YAML syntax error: the YAML parser's own message quotes the lines around
// the error, which in a kubeconfig hold tokens and keys. What the operator logs and what `b2b`
// prints name the file and the line, and nothing of the text.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionFromText, loadConnection } from '../../../src/kube/credentials.ts';
import { KubeconfigError } from '../../../src/kube/kubeconfig.ts';

const root = new URL('../../..', import.meta.url).pathname;
const TOKEN = 'tok-5f1e0c2d9a8b7c6d';
const KEY = 'S0VZLU1BVEVSSUFMLXNlY3JldA==';

// Line 8 is indented one space too far: "bad indentation of a mapping entry".
const malformed = `apiVersion: v1
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users:
- name: u
  user:
    token: ${TOKEN}
    client-key-data: ${KEY}
   client-certificate-data: ${KEY}
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

const dir = mkdtempSync(join(tmpdir(), 'malformed-kubeconfig-'));
const file = join(dir, 'config');
writeFileSync(file, malformed);

const expectNoSecrets = (text: string) => {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(KEY);
  expect(text).not.toContain('token:');
};

function run(args: string[]) {
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: '' },
  });
  return { code: result.status, output: result.stdout + result.stderr };
}

describe('a kubeconfig with a syntax error', () => {
  it('is reported by file and line, without its text', () => {
    let thrown: unknown;
    try {
      loadConnection(file);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(KubeconfigError);
    const message = (thrown as Error).message;
    expect(message).toContain(file);
    expect(message).toMatch(/line 8\b/);
    expectNoSecrets(message);
    expect(() => connectionFromText(malformed)).toThrow(/line 8\b/);
    try {
      connectionFromText(malformed);
    } catch (err) {
      expectNoSecrets((err as Error).message);
    }
  });

  it('makes the operator log "operator failed" with the file and line only', () => {
    const { code, output } = run(['src/main.ts', `--kubeconfig=${file}`]);
    expect(code).toBe(1);
    expect(output).toContain('operator failed');
    expect(output).toContain(file);
    expect(output).toMatch(/line 8\b/);
    expectNoSecrets(output);
  });

  it('makes b2b status and b2b check api print the file and line only', () => {
    for (const command of [['status'], ['check', 'api', '--wait=1s']]) {
      const { code, output } = run(['bin/b2b.js', ...command, '--kubeconfig', file]);
      expect(code).toBe(1);
      expect(output).toContain(file);
      expect(output).toMatch(/line 8\b/);
      expectNoSecrets(output);
    }
  });
});
