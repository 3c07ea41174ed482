// make bench: N Public certificates against the test control plane. Prints, for the operator
// and for a plain client doing the same writes with the same concurrency (the floor):
// time to all Ready, API requests per certificate, operator peak RSS, writes in a quiet period.
//   node bench/public-certificates.ts [--count 1000] [--concurrency 4] [--quiet-seconds 60]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
} from '../src/api/types.ts';
import type { KubeClient } from '../src/kube/client.ts';
import { NamespaceType, SecretType, resourcePath } from '../src/kube/client.ts';
import { buildCertificate, pem } from '../test/support/der-builder.ts';
import { keyPair } from '../test/support/keys.ts';
import { silentLogger } from '../src/operator/log.ts';
import { Informer } from '../src/runtime/informer.ts';
import { restartPhase } from './restart.ts';
import { installCrds, pool, readEnv, root } from './support.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    'quiet-seconds': { type: 'string', default: '60' },
  },
});
const N = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const QUIET_SECONDS = Number(values['quiet-seconds']);
const PER_ACCOUNT = 1000; // the Standard quota

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(b2b_kube_api_requests_total\{[^}]*\}) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const sum = (m: Map<string, number>, filter: (k: string) => boolean) =>
  [...m].filter(([k]) => filter(k)).reduce((a, [, v]) => a + v, 0);
const isWrite = (k: string) => /method="(POST|PUT|PATCH|DELETE)"/.test(k);

const pemOf = pem(
  buildCertificate({
    subjectKey: keyPair('rsa2048').publicKey,
    signingKey: keyPair('rsa2048').privateKey,
  }),
);

function certificateBody(i: number) {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name: `partner-${i}` },
    spec: {
      integrationAccount: { name: `account-${Math.floor(i / PER_ACCOUNT)}` },
      type: 'Public',
      certificate: { inline: pemOf },
    },
  };
}

async function floor(admin: KubeClient, ns: string): Promise<number> {
  const started = performance.now();
  await pool(N, CONCURRENCY, async (i) => {
    const created = await admin.create<Certificate>(
      resourcePath(CertificateResource, { namespace: ns }),
      certificateBody(i),
    );
    await admin.patch(
      resourcePath(CertificateResource, {
        namespace: ns,
        name: created.metadata.name,
        subresource: 'status',
      }),
      {
        status: {
          observedGeneration: 1,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Ready',
              message: 'floor',
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
            },
          ],
        },
      },
    );
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: `partner-${i}-b2bcert` },
      data: { 'tls.crt': Buffer.from(pemOf).toString('base64') },
    });
  });
  return (performance.now() - started) / 1000;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-bench-'));
  const env = { ...process.env, TESTENV_DIR: dir };
  execFileSync(join(root, 'hack/testenv.sh'), ['up'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let operatorPid: number | undefined;
  try {
    const vars = readEnv(dir);
    const admin = await installCrds(vars);
    for (const ns of ['bench-floor', 'bench-operator'])
      await admin.create(resourcePath(NamespaceType), { metadata: { name: ns } });

    const floorSeconds = await floor(admin, 'bench-floor');
    console.error(
      `floor: ${N} creates + status patches + Secret writes in ${floorSeconds.toFixed(1)} s`,
    );

    const startOperator = (port: number) => {
      const started = spawn(
        join(root, 'node_modules/.bin/node'),
        [
          join(root, 'src/main.ts'),
          '--kubeconfig',
          vars.B2B_OPERATOR_KUBECONFIG!,
          '--watch-namespace',
          'bench-operator',
          `--concurrency=${CONCURRENCY}`,
          `--metrics-bind-address=127.0.0.1:${port}`,
          '--health-probe-bind-address=127.0.0.1:0',
          // OPERATOR_LOG=FILE: its debug log there (a line per reconcile, with its duration)
          `--log-level=${process.env.OPERATOR_LOG ? 'debug' : 'warn'}`,
        ],
        {
          stdio: [
            'ignore',
            process.env.OPERATOR_LOG ? openSync(process.env.OPERATOR_LOG, 'a') : 'ignore',
            'inherit',
          ],
          // e.g. OPERATOR_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" (written on exit)
          env: { ...process.env, NODE_OPTIONS: process.env.OPERATOR_NODE_OPTIONS ?? '' },
        },
      );
      operatorPid = started.pid;
      return started;
    };
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = startOperator(port);
    for (;;) {
      try {
        await scrape(port);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const accounts = Math.ceil(N / PER_ACCOUNT);
    // Readiness from a watch, not by listing every certificate again and again: those lists
    // cost the API server O(N) each, O(N²) over a run, on the cores the operator shares.
    const watching = new AbortController();
    const readiness = new Informer<Certificate>({
      name: 'bench-certificates',
      client: admin,
      path: resourcePath(CertificateResource, { namespace: 'bench-operator' }),
      log: silentLogger,
    });
    const readyNames = new Set<string>();
    let allReady: () => void = () => undefined;
    const allReadyNow = new Promise<void>((resolve) => (allReady = resolve));
    const onCertificate = (c: Certificate) => {
      if (c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
        readyNames.add(c.metadata.name);
      else readyNames.delete(c.metadata.name);
      if (readyNames.size >= N) allReady();
    };
    readiness.on({ added: onCertificate, updated: (_, c) => onCertificate(c) });
    const readinessWatch = readiness.run(watching.signal);
    await readiness.waitForSync();
    const started = performance.now();
    for (let a = 0; a < accounts; a++) {
      await admin.create(
        resourcePath(IntegrationAccountResource, { namespace: 'bench-operator' }),
        {
          apiVersion: 'integration.b2b.dev/v1alpha1',
          kind: 'IntegrationAccount',
          metadata: { name: `account-${a}` },
          spec: {},
        },
      );
    }
    await pool(N, CONCURRENCY, (i) =>
      admin.create(
        resourcePath(CertificateResource, { namespace: 'bench-operator' }),
        certificateBody(i),
      ),
    );
    const appliedSeconds = (performance.now() - started) / 1000;
    await allReadyNow;
    const readySeconds = (performance.now() - started) / 1000;
    watching.abort();
    await readinessWatch;
    await new Promise((r) => setTimeout(r, 3000)); // the accounts' delayed count updates
    const converged = await scrape(port);
    // Which requests, by method and status code (a 409 is a conflict retried).
    console.error(
      [...converged]
        .map(([k, v]) => `${k.replace(/^b2b_kube_api_requests_total/, '')} ${v}`)
        .join('\n'),
    );
    const rss =
      Number(
        /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0,
      ) / 1024;
    await new Promise((r) => setTimeout(r, QUIET_SECONDS * 1000));
    const quiet = await scrape(port);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    operatorPid = undefined;
    const restart = await restartPhase(startOperator, N);
    operatorPid = undefined;

    const requests = sum(converged, () => true);
    const writes = sum(converged, isWrite);
    const quietWrites = sum(quiet, isWrite) - writes;
    const quietRequests = sum(quiet, () => true) - requests;
    const rows = [
      ['certificates', `${N} (in ${accounts} account(s), concurrency ${CONCURRENCY})`],
      [
        'floor: plain client, create + status patch + Secret per certificate',
        `${floorSeconds.toFixed(1)} s`,
      ],
      ['operator: applied (creates by the benchmark client)', `${appliedSeconds.toFixed(1)} s`],
      ['operator: all Ready, from the first create', `${readySeconds.toFixed(1)} s`],
      ['ratio operator / floor', `${(readySeconds / floorSeconds).toFixed(2)}`],
      [
        'operator API requests per certificate (all / writes)',
        `${(requests / N).toFixed(2)} / ${(writes / N).toFixed(2)}`,
      ],
      ['operator peak RSS', `${rss.toFixed(0)} MiB`],
      [
        `operator requests / writes in a quiet ${QUIET_SECONDS} s after convergence`,
        `${quietRequests} / ${quietWrites}`,
      ],
      [
        `restart with ${N} Ready certificates: start → every one confirmed (requests / writes)`,
        `${restart.seconds.toFixed(1)} s, serving /metrics after ${restart.listening.toFixed(1)} s (${restart.requests} / ${restart.writes})`,
      ],
      [
        'machine',
        `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      ],
    ];
    console.log(
      `| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`,
    );
  } finally {
    if (operatorPid) process.kill(operatorPid, 'SIGTERM');
    execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
