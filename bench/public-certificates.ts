// make bench: N Public certificates against the test control plane. Prints, for the operator
// and for a plain client doing the same writes with the same concurrency (the floor): time to
// all Ready, API writes per certificate, idle and peak RSS and the RSS curve, writes in a quiet
// period, a restart over N Ready certificates, and apply -> Ready latencies of single
// certificates. The operator runs with the Deployment's node flags (deploy/operator).
//   node bench/public-certificates.ts [--count 1000] [--concurrency 4] [--quiet-seconds 60]
//     [--latency-samples 200]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
} from '../src/api/types.ts';
import type { KubeClient } from '../src/kube/client.ts';
import { EventType, NamespaceType, SecretType, resourcePath } from '../src/kube/client.ts';
import { buildCertificate, pem } from '../test/support/der-builder.ts';
import { keyPair } from '../test/support/keys.ts';
import { silentLogger } from '../src/operator/log.ts';
import { Informer } from '../src/runtime/informer.ts';
import {
  controlPlaneCpu,
  cpuSeconds,
  imageEnv,
  installCrds,
  operatorNodeOptions,
  percentile,
  pool,
  procMiB,
  readEnv,
  root,
} from './support.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    'quiet-seconds': { type: 'string', default: '60' },
    'latency-samples': { type: 'string', default: '200' },
    /** A directory: a heap snapshot of the operator after convergence is written there. */
    'heap-snapshot': { type: 'string' },
  },
});
const N = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const QUIET_SECONDS = Number(values['quiet-seconds']);
const LATENCY_SAMPLES = Number(values['latency-samples']);
const PER_ACCOUNT = 1000; // the Standard quota
const NS = 'bench-operator';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The operator's API requests by method and code, and how many certificates it has seen Ready. */
async function scrape(port: number): Promise<{ requests: Map<string, number>; ready: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const requests = new Map<string, number>();
  let ready = 0;
  for (const line of text.split('\n')) {
    const m = /^(b2b_kube_api_requests_total\{[^}]*\}) (\S+)$/.exec(line);
    if (m) requests.set(m[1]!, Number(m[2]));
    else if (
      line.startsWith('b2b_certificate_ready_status{') &&
      line.includes(`namespace="${NS}"`) &&
      line.includes('condition="True"') &&
      line.endsWith(' 1')
    )
      ready++;
  }
  return { requests, ready };
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

function certificateBody(
  i: number,
  name = `partner-${i}`,
  account = `account-${Math.floor(i / PER_ACCOUNT)}`,
) {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name },
    spec: {
      integrationAccount: { name: account },
      type: 'Public',
      certificate: { inline: pemOf },
    },
  };
}

/**
 * A plain client doing what docs/API.md promises per certificate: create, status, the store
 * Secret and (`withEvent`, the contract's floor) the first `Synced` event.
 */
async function floor(
  admin: KubeClient,
  ns: string,
  withEvent: boolean,
  count = N,
): Promise<number> {
  const started = performance.now();
  await pool(count, CONCURRENCY, async (i) => {
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
    if (!withEvent) return;
    const now = new Date().toISOString();
    await admin.create(resourcePath(EventType, { namespace: ns }), {
      metadata: { generateName: `${created.metadata.name}.`, namespace: ns },
      involvedObject: {
        apiVersion: created.apiVersion,
        kind: created.kind,
        name: created.metadata.name,
        namespace: ns,
        uid: created.metadata.uid,
      },
      type: 'Normal',
      reason: 'Synced',
      message: `certificate written to Secret partner-${i}-b2bcert`,
      source: { component: 'bench-floor' },
      reportingComponent: 'bench-floor',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  });
  return (performance.now() - started) / 1000;
}

const isReady = (c: Certificate) =>
  c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;

interface Operator {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}

const SNAPSHOT_DIR = values['heap-snapshot'];

/** As the image runs it: the compiled JavaScript of `npm run build`. */
const COMPILED = join(root, 'dist/main.js');
/** The TypeScript sources, run by Node's type stripping (`make run`). */
const SOURCES = join(root, 'src/main.ts');

async function startOperator(
  kubeconfig: string,
  nodeOptions: string,
  entry = COMPILED,
): Promise<Operator> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    join(root, 'node_modules/.bin/node'),
    [
      entry,
      '--kubeconfig',
      kubeconfig,
      '--watch-namespace',
      NS,
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
      env: {
        ...process.env,
        ...imageEnv(),
        NODE_OPTIONS: SNAPSHOT_DIR ? `${nodeOptions} --heapsnapshot-signal=SIGUSR2` : nodeOptions,
      },
      ...(SNAPSHOT_DIR ? { cwd: SNAPSHOT_DIR } : {}),
    },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (;;) {
    try {
      await scrape(port);
      return { child, port, exited };
    } catch {
      if (child.exitCode !== null) throw new Error('the operator exited');
      await sleep(50);
    }
  }
}

/** CPU seconds per process between two readings. */
function cpuSince(before: Record<string, number>, after: Record<string, number>) {
  return Object.fromEntries(
    Object.entries(after).map(([name, seconds]) => [name, seconds - (before[name] ?? 0)]),
  );
}

/** "kube-apiserver 40.1, etcd 9.2, …; busy 1.62 of 2 cores". */
function cpuRow(cpu: Record<string, number>, wallSeconds: number, cores: number): string {
  const total = Object.values(cpu).reduce((a, b) => a + b, 0);
  return `${Object.entries(cpu)
    .map(([name, s]) => `${name} ${s.toFixed(1)}`)
    .join(', ')}; busy ${(total / wallSeconds).toFixed(2)} of ${cores} cores`;
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

/** apply -> Ready of single certificates, one at a time, seen through the readiness watch. */
async function latencies(
  admin: KubeClient,
  samples: number,
  whenReady: (name: string) => Promise<void>,
): Promise<number[]> {
  await admin.create(resourcePath(IntegrationAccountResource, { namespace: NS }), {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'IntegrationAccount',
    metadata: { name: 'account-latency' },
    spec: {},
  });
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const name = `latency-${i}`;
    const started = performance.now();
    await admin.create(
      resourcePath(CertificateResource, { namespace: NS }),
      certificateBody(i, name, 'account-latency'),
    );
    await whenReady(name);
    out.push(performance.now() - started);
  }
  return out;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-bench-'));
  const env = { ...process.env, TESTENV_DIR: dir };
  const nodeOptions = operatorNodeOptions();
  const loadAtStart = loadavg()[0]!;
  // The image's entry point: npm run build (tsc -p tsconfig.build.json) into dist/.
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  execFileSync(join(root, 'hack/testenv.sh'), ['up'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let operator: Operator | undefined;
  const stopOperator = async () => {
    if (!operator) return;
    operator.child.kill('SIGTERM');
    await operator.exited;
    operator = undefined;
  };
  try {
    const vars = readEnv(dir);
    const admin = await installCrds(vars);
    for (const ns of ['bench-warm-up', 'bench-floor', 'bench-floor-3', NS])
      await admin.create(resourcePath(NamespaceType), { metadata: { name: ns } });
    // The first writes to a fresh API server and etcd are slower: warmed up, the two floors
    // compare (the first of them measured 2x the second without this).
    await floor(admin, 'bench-warm-up', true, Math.min(N, 500));

    const floorCpuBefore = controlPlaneCpu(dir);
    const floorSeconds = await floor(admin, 'bench-floor', true);
    const floorCpu = cpuSince(floorCpuBefore, controlPlaneCpu(dir));
    console.error(
      `floor: ${N} creates + status patches + Secret writes + Synced events in ${floorSeconds.toFixed(1)} s`,
    );
    const floor3Seconds = await floor(admin, 'bench-floor-3', false);
    console.error(
      `floor without the event: ${N} creates + status patches + Secret writes in ${floor3Seconds.toFixed(1)} s`,
    );

    // Readiness from a watch (perfa): listing every certificate again and again would cost the
    // API server O(N) each time, O(N²) over a run, on the cores the operator shares.
    const watching = new AbortController();
    const readiness = new Informer<Certificate>({
      name: 'bench-certificates',
      client: admin,
      path: resourcePath(CertificateResource, { namespace: NS }),
      log: silentLogger,
    });
    const ready = new Set<string>();
    const waiters: { done: () => boolean; resolve: () => void }[] = [];
    const onCertificate = (c: Certificate) => {
      if (isReady(c)) ready.add(c.metadata.name);
      else ready.delete(c.metadata.name);
      for (const w of waiters.filter((x) => x.done())) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    readiness.on({ added: onCertificate, updated: (_, c) => onCertificate(c) });
    const readinessWatch = readiness.run(watching.signal);
    await readiness.waitForSync();
    const until = (done: () => boolean) =>
      done() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ done, resolve }));
    const untilReady = (count: number) => until(() => ready.size >= count);

    // Idle: started, caches synced, nothing to reconcile; the sources first, for comparison.
    operator = await startOperator(vars.B2B_OPERATOR_KUBECONFIG!, nodeOptions, SOURCES);
    await sleep(5000);
    const idleSourcesRss = procMiB(operator.child.pid!, 'VmRSS');
    await stopOperator();
    operator = await startOperator(vars.B2B_OPERATOR_KUBECONFIG!, nodeOptions);
    await sleep(5000);
    const idleRss = procMiB(operator.child.pid!, 'VmRSS');
    console.error(
      `idle: ${idleRss.toFixed(0)} MiB RSS compiled, ${idleSourcesRss.toFixed(0)} MiB from the sources`,
    );

    // RSS against the number of Ready certificates while converging.
    const pid = operator.child.pid!;
    const curve: [number, number][] = [[0, idleRss]];
    const sampler = setInterval(() => curve.push([ready.size, procMiB(pid, 'VmRSS')]), 250);

    const accounts = Math.ceil(N / PER_ACCOUNT);
    const convergeCpuBefore = { ...controlPlaneCpu(dir), operator: cpuSeconds(pid) };
    const started = performance.now();
    for (let a = 0; a < accounts; a++) {
      await admin.create(resourcePath(IntegrationAccountResource, { namespace: NS }), {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'IntegrationAccount',
        metadata: { name: `account-${a}` },
        spec: {},
      });
    }
    await pool(N, CONCURRENCY, (i) =>
      admin.create(resourcePath(CertificateResource, { namespace: NS }), certificateBody(i)),
    );
    const appliedSeconds = (performance.now() - started) / 1000;
    await untilReady(N);
    const readySeconds = (performance.now() - started) / 1000;
    const convergeCpu = cpuSince(convergeCpuBefore, {
      ...controlPlaneCpu(dir),
      operator: cpuSeconds(pid),
    });
    await sleep(3000); // the accounts' delayed count updates
    clearInterval(sampler);
    const converged = (await scrape(operator.port)).requests;
    // Which requests, by method and status code (a 409 is a conflict retried).
    console.error(
      [...converged]
        .map(([k, v]) => `${k.replace(/^b2b_kube_api_requests_total/, '')} ${v}`)
        .join('\n'),
    );
    const peakRss = procMiB(pid, 'VmHWM');
    const settledRss = procMiB(pid, 'VmRSS');
    if (SNAPSHOT_DIR) {
      // Written by the operator itself (a full GC first: live objects only); takes seconds.
      const before = new Set(readdirSync(SNAPSHOT_DIR));
      operator.child.kill('SIGUSR2');
      for (let size = -1; ;) {
        await sleep(2000);
        const file = readdirSync(SNAPSHOT_DIR).find((f) => !before.has(f));
        if (!file) continue;
        const now = statSync(join(SNAPSHOT_DIR, file)).size;
        if (now === size) {
          console.error(`heap snapshot: ${join(SNAPSHOT_DIR, file)}`);
          break;
        }
        size = now;
      }
    }
    await sleep(QUIET_SECONDS * 1000);
    const quiet = (await scrape(operator.port)).requests;
    const convergePeak = peakRss;

    // Restart over N Ready certificates: confirmed = the new process has reconciled every
    // certificate and reports it Ready on /metrics (b2b_certificate_ready_status{condition="True"}).
    await stopOperator();
    const restartStarted = performance.now();
    operator = await startOperator(vars.B2B_OPERATOR_KUBECONFIG!, nodeOptions);
    let confirmed = 0;
    let afterRestart = new Map<string, number>();
    while (confirmed < N) {
      await sleep(N > 2000 ? 500 : 100);
      ({ ready: confirmed, requests: afterRestart } = await scrape(operator.port));
    }
    const restartSeconds = (performance.now() - restartStarted) / 1000;
    await sleep(5000);
    const restartSettled = (await scrape(operator.port)).requests;
    const restartPeak = procMiB(operator.child.pid!, 'VmHWM');

    // Warm operator: single certificates, one at a time.
    const samples =
      LATENCY_SAMPLES > 0
        ? await latencies(admin, LATENCY_SAMPLES, (name) => until(() => ready.has(name)))
        : [];
    await stopOperator();
    watching.abort();
    await readinessWatch;

    const requests = sum(converged, () => true);
    const writes = sum(converged, isWrite);
    const quietWrites = sum(quiet, isWrite) - writes;
    const quietRequests = sum(quiet, () => true) - requests;
    const half = curve.filter(([x]) => x <= N / 2);
    const second = curve.filter(([x]) => x >= N / 2);
    const perCert = slope(curve.filter(([x]) => x > 0));
    const curveRows = [0.1, 0.25, 0.5, 0.75, 1].map((f) => {
      const at = curve.find(([x]) => x >= f * N);
      return `${Math.round(f * N)}: ${at ? at[1].toFixed(0) : '?'}`;
    });
    const cores = cpus().length;
    const rows = [
      ['certificates', `${N} (in ${accounts} account(s), concurrency ${CONCURRENCY})`],
      ['operator node flags (deploy/operator)', `\`${nodeOptions || '(none)'}\``],
      [
        'operator environment from the image (Dockerfile)',
        Object.entries(imageEnv())
          .map(([k, v]) => `\`${k}=${v}\``)
          .join(' '),
      ],
      [
        "floor (the contract's): plain client, create + status patch + Secret + Synced event per certificate",
        `${floorSeconds.toFixed(1)} s`,
      ],
      [
        'floor without the event: create + status patch + Secret per certificate',
        `${floor3Seconds.toFixed(1)} s`,
      ],
      ['operator: applied (creates by the benchmark client)', `${appliedSeconds.toFixed(1)} s`],
      ['operator: all Ready, from the first create', `${readySeconds.toFixed(1)} s`],
      ["ratio operator / contract's floor", `${(readySeconds / floorSeconds).toFixed(2)}`],
      ['ratio operator / floor without the event', `${(readySeconds / floor3Seconds).toFixed(2)}`],
      [
        `CPU seconds in the contract's floor run (${floorSeconds.toFixed(1)} s on ${cores} cores)`,
        cpuRow(floorCpu, floorSeconds, cores),
      ],
      [
        `CPU seconds, first create to all Ready (${readySeconds.toFixed(1)} s on ${cores} cores)`,
        cpuRow(convergeCpu, readySeconds, cores),
      ],
      [
        'operator API requests per certificate (all / writes)',
        `${(requests / N).toFixed(2)} / ${(writes / N).toFixed(2)}`,
      ],
      [
        'operator idle RSS, empty namespace, caches synced (compiled, as the image)',
        `${idleRss.toFixed(0)} MiB`,
      ],
      ['the same from src/main.ts (type stripping)', `${idleSourcesRss.toFixed(0)} MiB`],
      ['operator peak RSS (VmHWM), converging', `${convergePeak.toFixed(0)} MiB`],
      ['operator RSS 3 s after all Ready', `${settledRss.toFixed(0)} MiB`],
      [
        'RSS curve, MiB at Ready certificates',
        `${curveRows.join(', ')}; slope ${((perCert * 1024) | 0).toString()} KiB per certificate (first half ${((slope(half) * 1024) | 0).toString()}, second half ${((slope(second) * 1024) | 0).toString()})`,
      ],
      [
        `operator requests / writes in a quiet ${QUIET_SECONDS} s after convergence`,
        `${quietRequests} / ${quietWrites}`,
      ],
      [
        `restart over ${N} Ready certificates: start until every one is confirmed`,
        `${restartSeconds.toFixed(1)} s`,
      ],
      [
        'restart: requests / writes until confirmed (and 5 s later)',
        `${sum(afterRestart, () => true)} / ${sum(afterRestart, isWrite)} (${sum(restartSettled, () => true)} / ${sum(restartSettled, isWrite)})`,
      ],
      ['restart: peak RSS', `${restartPeak.toFixed(0)} MiB`],
      [
        `apply -> Ready, ${samples.length} single certificates, warm operator: p50 / p99 / max`,
        samples.length
          ? `${percentile(samples, 50).toFixed(0)} / ${percentile(samples, 99).toFixed(0)} / ${Math.max(...samples).toFixed(0)} ms`
          : 'not run',
      ],
      [
        'machine',
        `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} (1, 5, 15 min) at the end`,
      ],
    ];
    console.log(
      `| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`,
    );
  } finally {
    await stopOperator().catch(() => undefined);
    execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
