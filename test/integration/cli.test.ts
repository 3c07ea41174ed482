// `b2b` against the real API server and the operator: validate's verdict equals the operator's
// for every case of the shared table, the API server refuses what validate refuses, and
// status / status certificate / check api read the cluster as a user's kubeconfig allows.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeApiError, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { CertificateResource, IntegrationAccountResource } from '../../src/api/types.ts';
import type { ObjectResult } from '../../src/cli/validate.ts';
import type { StatusRow } from '../../src/cli/status.ts';
import { caseManifests, certificateCases } from '../support/certificate-cases.ts';
import { adminClient, createNamespace, testenv } from '../support/cluster.ts';
import { ruleCases } from '../support/crd-rule-cases.ts';
import { waitForEvent } from '../support/events.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import { waitForCondition } from '../support/resources.ts';

const root = new URL('../..', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

/** Runs `b2b` as users do (bin/b2b.js with the pinned Node); never rejects on exit codes. */
async function b2b(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = execFileAsync(process.execPath, [join(root, 'bin/b2b.js'), ...args], {
    cwd: root,
    env: { ...process.env, KUBECONFIG: testenv().adminKubeconfig },
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const pathOf = (kind: string, namespace: string) =>
  resourcePath(
    kind === 'Certificate'
      ? CertificateResource
      : kind === 'IntegrationAccount'
        ? IntegrationAccountResource
        : { group: '', version: 'v1', plural: kind === 'Secret' ? 'secrets' : 'configmaps', kind },
    { namespace },
  );

describe('b2b against the cluster', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  let manifests: string;

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'cli');
    const objects = caseManifests(ns);
    manifests = objects.map((o) => stringify(o)).join('---\n');
    // In table order, so the quota ranks by creation time as the CLI ranks by name.
    for (const o of objects) await admin.create(pathOf(String(o.kind), ns), o);
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('gives every certificate case the verdict the table names, in the operator and in b2b validate', async () => {
    for (const c of certificateCases) {
      await waitForCondition(
        admin,
        ns,
        c.name,
        'Ready',
        c.operator === 'Ready' ? 'True' : 'False',
        c.operator,
      );
    }
    const { code, stdout } = await b2b(['validate', '-f', '-', '-o', 'json'], manifests);
    expect(code).toBe(1);
    const { results } = JSON.parse(stdout) as { results: ObjectResult[] };
    for (const c of certificateCases) {
      const result = results.find((r) => r.kind === 'Certificate' && r.name === c.name);
      expect({ name: c.name, ...result }).toMatchObject({ name: c.name, ...c.cli });
      if (c.cli.level === 'fail') expect(result?.reason).toBe(c.operator);
    }
  });

  it('is refused by the API server for every CEL rule case, with the message b2b validate gives', async () => {
    for (const c of ruleCases) {
      const err = await admin.create(pathOf(String(c.manifest.kind), ns), c.manifest).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, c.what).toBeInstanceOf(KubeApiError);
      const cli = await b2b(['validate', '-f', '-', '-o', 'json'], JSON.stringify(c.manifest));
      expect(cli.code, c.what).toBe(1);
      const [result] = (JSON.parse(cli.stdout) as { results: ObjectResult[] }).results;
      // The CRD's message appears in both answers.
      const ruleMessage = /Invalid value: "object": ([^;]+)/.exec(result!.message)![1]!;
      expect((err as KubeApiError).message, c.what).toContain(ruleMessage);
    }
  });

  it('b2b status lists failing certificates first, then the rest by expiry', async () => {
    await waitForCondition(admin, ns, 'valid-inline', 'Ready', 'True');
    const { code, stdout } = await b2b(['status', '-n', ns, '-o', 'json']);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as StatusRow[];
    expect(rows).toHaveLength(certificateCases.length + 3);
    const urgencies = rows.map((r) => r.urgency);
    expect(urgencies).toEqual([...urgencies].sort((a, b) => a - b));
    expect(rows[0]).toMatchObject({ ready: 'False' });
    expect(rows.find((r) => r.name === 'expiring-soon')?.urgency).toBe(3);
    const human = await b2b(['status', '-A']);
    expect(human.stdout).toMatch(
      /^NAMESPACE\s+KIND\s+NAME\s+ACCOUNT\s+TYPE\s+READY\s+REASON\s+EXPIRES/,
    );
    expect(human.stdout).toMatch(
      new RegExp(`^${ns}\\s+Certificate\\s+private-no-data-encipherment\\s`, 'm'),
    );
  });

  it('b2b status certificate explains why a certificate is not Ready, and exits 1', async () => {
    // The output lists the certificates' events, which are sent in the background.
    await waitForEvent(admin, ns, {
      kind: 'Certificate',
      name: 'private-no-data-encipherment',
      reason: 'MissingDataEncipherment',
    });
    await waitForEvent(admin, ns, { kind: 'Certificate', name: 'valid-inline', reason: 'Synced' });
    const failing = await b2b(['status', 'certificate', 'private-no-data-encipherment', '-n', ns]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('Not Ready because MissingDataEncipherment');
    expect(failing.stdout).toContain('only a change to the Certificate');
    expect(failing.stdout).toMatch(/Secret private-no-data-encipherment-b2bcert does not exist/);
    expect(failing.stdout).toMatch(/Warning MissingDataEncipherment/);

    const ready = await b2b(['status', 'certificate', 'valid-inline', '-n', ns]);
    expect(ready.code).toBe(0);
    expect(ready.stdout).toMatch(/^Ready: /m);
    expect(ready.stdout).toMatch(
      /Secret valid-inline-b2bcert holds metadata.json, tls.crt, last written/,
    );
    expect(ready.stdout).toMatch(/Normal Synced/);

    const missing = await b2b(['status', 'certificate', 'nope', '-n', ns]);
    expect(missing).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not found') as string,
    });
  });

  it('b2b check api passes while the operator runs, and says what is missing where it does not', async () => {
    const ok = await b2b(['check', 'api', '-n', ns, '--wait', '60s']);
    expect(ok.stdout).toContain('The operator answers');
    expect(ok.code).toBe(0);
    const probes = await admin.list<{ items: unknown[] }>(pathOf('IntegrationAccount', ns), {
      labelSelector: 'app.kubernetes.io/created-by=b2b-check-api',
    });
    expect(probes.items).toEqual([]); // the probe is cleaned up

    const unwatched = await createNamespace(admin, 'cli-unwatched');
    const no = await b2b(['check', 'api', '-n', unwatched, '--wait', '3s']);
    expect(no.code).toBe(1);
    expect(no.stdout).toContain('The CRDs are installed and served');
    expect(no.stderr).toMatch(/the operator does not answer: .*has no status from the operator/);
    const json = await b2b(['check', 'api', '-n', unwatched, '--wait', '2s', '-o', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      crds: true,
      operator: expect.stringMatching(/has no status from the operator/) as string,
    });
  });

  it('is a kubectl plugin: `kubectl b2b` runs it from PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'b2b-plugin-'));
    symlinkSync(join(root, 'bin/b2b.js'), join(dir, 'kubectl-b2b')); // as npm links a bin
    const { stdout } = await execFileAsync(testenv().kubectl, ['b2b', 'status', '-n', ns], {
      env: {
        ...process.env,
        PATH: `${dir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        KUBECONFIG: testenv().adminKubeconfig,
      },
    });
    expect(stdout).toMatch(/^KIND\s+NAME/);
  });

  // The machine's node may be older than the pinned one (kubectl runs the plugin's shebang,
  // `env node`, with the first node on PATH): the shim runs itself again with node_modules/.bin/node.
  const olderNode = ['/usr/bin/node', '/usr/local/bin/node'].find(
    (node) =>
      Number(
        /^v(\d+)/.exec(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1],
      ) < 24,
  );
  it.skipIf(!olderNode)(
    `is a kubectl plugin where the first node on PATH is older (${olderNode ?? 'none found'})`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'b2b-plugin-'));
      symlinkSync(join(root, 'bin/b2b.js'), join(dir, 'kubectl-b2b'));
      const path = (process.env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules'));
      const { stdout } = await execFileAsync(testenv().kubectl, ['b2b', 'status', '-n', ns], {
        env: {
          ...process.env,
          PATH: [dir, dirname(olderNode!), ...path].join(':'),
          KUBECONFIG: testenv().adminKubeconfig,
        },
      });
      expect(stdout).toMatch(/^KIND\s+NAME/);
    },
  );
});
