// make bench-peer: this operator side by side with External Secrets Operator (ESO) v0.16.2 doing
// the same per-object work on one fresh local control plane: N objects each copying one PEM
// certificate out of a source Secret `src-i` of their namespace. ESO: one SecretStore (the
// Kubernetes provider, reading that namespace of the same API server) and N ExternalSecrets
// writing `dst-i`; this operator: one IntegrationAccount per 1,000 (kubernetes store) and N
// Public certificates with `certificate.secretRef: { name: src-i }`. Runs, one after the other,
// each in its own namespace with a freshly started process: ESO with its defaults, ESO with
// --concurrent C, this operator with its defaults, this operator with --concurrency C. Prints a
// markdown table of time to all Ready, API requests and writes per object, idle and peak RSS
// and CPU seconds, with ratios.
//   node bench/peer.ts [--count 1000] [--concurrency 4] [--defaults-only] [--eso-args="FLAGS"]
// ESO_BIN: the ESO binary (default: what hack/build-eso.sh prints; it builds once, cached).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { CertificateResource, IntegrationAccountResource } from '../src/api/types.ts';
import type { KubeClient, ResourceType } from '../src/kube/client.ts';
import { NamespaceType, SecretType, resourcePath } from '../src/kube/client.ts';
import { silentLogger } from '../src/operator/log.ts';
import { Informer } from '../src/runtime/informer.ts';
import { buildCertificate, pem } from '../test/support/der-builder.ts';
import { keyPair } from '../test/support/keys.ts';
import {
  cpuSeconds,
  imageEnv,
  installCrds,
  operatorNodeOptions,
  pool,
  procMiB,
  readEnv,
  root,
} from './support.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    /** Only ESO's defaults against this operator's defaults (the long runs). */
    'defaults-only': { type: 'boolean', default: false },
    /** More flags for every ESO run, e.g. "--client-qps=1000 --client-burst=2000". */
    'eso-args': { type: 'string', default: '' },
  },
});
const N = Number(values.count);
const C = Number(values.concurrency);
const ESO_ARGS = values['eso-args'].split(/\s+/).filter(Boolean);
const PER_ACCOUNT = 1000; // the Standard quota
const OUR_DEFAULT = 4; // src/operator/config.ts: --concurrency
const ESO_DEFAULT = 1; // ESO: --concurrent
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ExternalSecretType: ResourceType = {
  group: 'external-secrets.io',
  version: 'v1',
  plural: 'externalsecrets',
  kind: 'ExternalSecret',
};
const SecretStoreType: ResourceType = {
  group: 'external-secrets.io',
  version: 'v1',
  plural: 'secretstores',
  kind: 'SecretStore',
};

interface Conditioned {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}
const isReady = (o: Conditioned) =>
  o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

const pemOf = pem(
  buildCertificate({
    subjectKey: keyPair('rsa2048').publicKey,
    signingKey: keyPair('rsa2048').privateKey,
  }),
);
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

interface Run {
  id: string;
  who: 'eso' | 'ours';
  /** undefined: the process's own default. */
  concurrency: number | undefined;
  title: string;
}

interface Result {
  readySeconds: number;
  createdSeconds: number;
  requests: number;
  writes: number;
  idleRss: number;
  peakRss: number;
  readyRss: number;
  cpuAtReady: number;
  cpuInWindow: number;
  requestsByKind: string;
}

interface Proc {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
  /** All the process's API requests so far: [all, writes], and the series. */
  requests: () => Promise<{ all: number; writes: number; series: Map<string, number> }>;
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function counters(text: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^(${metric}\\{[^}]*\\}) (\\S+)$`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
const isWrite = (k: string) => /method="(POST|PUT|PATCH|DELETE)"/.test(k);

async function spawnAndWait(
  command: string,
  args: (port: number) => string[],
  env: NodeJS.ProcessEnv,
  metric: string,
): Promise<Proc> {
  for (let attempt = 0; ; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(command, args(port), {
      stdio: ['ignore', 'ignore', process.env.PEER_LOG ? 'inherit' : 'ignore'],
      env,
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const requests = async () => {
      const series = counters(await metricsText(port), metric);
      let all = 0;
      let writes = 0;
      for (const [k, v] of series) {
        all += v;
        if (isWrite(k)) writes += v;
      }
      return { all, writes, series };
    };
    for (;;) {
      try {
        await metricsText(port);
        return { child, port, exited, requests };
      } catch {
        if (child.exitCode !== null) break; // the port was taken, or a real failure: once more
        await sleep(50);
      }
    }
    if (attempt >= 2) throw new Error(`${command} exited with ${child.exitCode}`);
  }
}

async function stop(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  await p.exited;
}

/** Ready objects of a collection, seen through a watch. */
function readiness(admin: KubeClient, path: string) {
  const watching = new AbortController();
  const informer = new Informer<Conditioned>({
    name: 'bench-peer-readiness',
    client: admin,
    path,
    log: silentLogger,
  });
  const ready = new Set<string>();
  let waiter: { count: number; resolve: () => void } | undefined;
  const seen = (o: Conditioned) => {
    if (isReady(o)) ready.add(o.metadata.name);
    else ready.delete(o.metadata.name);
    if (waiter && ready.size >= waiter.count) {
      waiter.resolve();
      waiter = undefined;
    }
  };
  informer.on({ added: seen, updated: (_, o) => seen(o) });
  const running = informer.run(watching.signal);
  return {
    synced: () => informer.waitForSync(),
    until: (count: number) =>
      ready.size >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => (waiter = { count, resolve })),
    ready,
    stop: async () => {
      watching.abort();
      await running;
    },
  };
}

async function waitReady(admin: KubeClient, path: string, what: string): Promise<void> {
  let last: Conditioned | undefined;
  for (let i = 0; i < 600; i++) {
    last = await admin.get<Conditioned>(path);
    if (isReady(last)) return;
    await sleep(100);
  }
  throw new Error(`${what} not Ready after 60 s: ${JSON.stringify(last?.status)}`);
}

interface Env {
  admin: KubeClient;
  vars: Record<string, string>;
  esoBin: string;
  nodeOptions: string;
  /** The operator user's kubeconfig, read: API server URL, its CA, the client cert and key. */
  server: string;
  ca: string;
  clientCert: string;
  clientKey: string;
}

interface KubeconfigFile {
  clusters: { cluster: { server: string; 'certificate-authority': string } }[];
  users: { user: { 'client-certificate': string; 'client-key': string } }[];
}

async function startEso(env: Env, ns: string, concurrency: number | undefined): Promise<Proc> {
  return spawnAndWait(
    env.esoBin,
    (port) => [
      `--metrics-addr=127.0.0.1:${port}`,
      ...(concurrency === undefined ? [] : [`--concurrent=${concurrency}`]),
      `--namespace=${ns}`,
      '--enable-cluster-store-reconciler=false',
      '--enable-cluster-external-secret-reconciler=false',
      '--enable-push-secret-reconciler=false',
      '--enable-cluster-push-secret-reconciler=false',
      '--loglevel=error',
      ...ESO_ARGS,
    ],
    // The admin: the operator user's RBAC covers this operator's resources, not ESO's.
    { ...process.env, KUBECONFIG: env.vars.KUBECONFIG },
    'rest_client_requests_total',
  );
}

async function startOurs(env: Env, ns: string, concurrency: number | undefined): Promise<Proc> {
  return spawnAndWait(
    join(root, 'node_modules/.bin/node'),
    (port) => [
      join(root, 'dist/main.js'), // as the image runs it (npm run build)
      '--kubeconfig',
      env.vars.B2B_OPERATOR_KUBECONFIG!,
      '--watch-namespace',
      ns,
      ...(concurrency === undefined ? [] : [`--concurrency=${concurrency}`]),
      `--metrics-bind-address=127.0.0.1:${port}`,
      '--health-probe-bind-address=127.0.0.1:0',
      '--log-level=warn',
    ],
    { ...process.env, ...imageEnv(), NODE_OPTIONS: env.nodeOptions },
    'b2b_kube_api_requests_total',
  );
}

async function measure(env: Env, run: Run): Promise<Result> {
  const { admin } = env;
  const ns = `peer-${run.id}`;
  await admin.create(resourcePath(NamespaceType), { metadata: { name: ns } });
  const proc =
    run.who === 'eso'
      ? await startEso(env, ns, run.concurrency)
      : await startOurs(env, ns, run.concurrency);
  const pid = proc.child.pid!;
  try {
    // Idle: started, caches synced, nothing in the namespace.
    await sleep(5000);
    const idleRss = procMiB(pid, 'VmRSS');

    // The inputs (not timed): N source Secrets, then the store or account, Ready.
    await pool(N, C, (i) =>
      admin.create(resourcePath(SecretType, { namespace: ns }), {
        metadata: { name: `src-${i}` },
        data: { 'tls.crt': b64(pemOf) },
      }),
    );
    if (run.who === 'eso') {
      await admin.create(resourcePath(SecretType, { namespace: ns }), {
        metadata: { name: 'eso-client' },
        data: { 'tls.crt': b64(env.clientCert), 'tls.key': b64(env.clientKey) },
      });
      await admin.create(resourcePath(SecretStoreType, { namespace: ns }), {
        apiVersion: 'external-secrets.io/v1',
        kind: 'SecretStore',
        metadata: { name: 'same-cluster' },
        spec: {
          provider: {
            kubernetes: {
              remoteNamespace: ns,
              server: { url: env.server, caBundle: b64(env.ca) },
              auth: {
                cert: {
                  clientCert: { name: 'eso-client', key: 'tls.crt' },
                  clientKey: { name: 'eso-client', key: 'tls.key' },
                },
              },
            },
          },
        },
      });
      await waitReady(
        admin,
        resourcePath(SecretStoreType, { namespace: ns, name: 'same-cluster' }),
        'the SecretStore',
      );
    } else {
      for (let a = 0; a < Math.ceil(N / PER_ACCOUNT); a++) {
        await admin.create(resourcePath(IntegrationAccountResource, { namespace: ns }), {
          apiVersion: 'integration.b2b.dev/v1alpha1',
          kind: 'IntegrationAccount',
          metadata: { name: `account-${a}` },
          spec: {},
        });
        await waitReady(
          admin,
          resourcePath(IntegrationAccountResource, { namespace: ns, name: `account-${a}` }),
          `account-${a}`,
        );
      }
    }

    const type = run.who === 'eso' ? ExternalSecretType : CertificateResource;
    const watch = readiness(admin, resourcePath(type, { namespace: ns }));
    await watch.synced();
    const cpuBefore = cpuSeconds(pid);
    const started = performance.now();
    await pool(N, C, (i) =>
      admin.create(
        resourcePath(type, { namespace: ns }),
        run.who === 'eso'
          ? {
              apiVersion: 'external-secrets.io/v1',
              kind: 'ExternalSecret',
              metadata: { name: `es-${i}` },
              spec: {
                refreshInterval: '1h',
                secretStoreRef: { name: 'same-cluster', kind: 'SecretStore' },
                target: { name: `dst-${i}` },
                data: [
                  { secretKey: 'tls.crt', remoteRef: { key: `src-${i}`, property: 'tls.crt' } },
                ],
              },
            }
          : {
              apiVersion: 'integration.b2b.dev/v1alpha1',
              kind: 'Certificate',
              metadata: { name: `partner-${i}` },
              spec: {
                integrationAccount: { name: `account-${Math.floor(i / PER_ACCOUNT)}` },
                type: 'Public',
                certificate: { secretRef: { name: `src-${i}`, key: 'tls.crt' } },
              },
            },
      ),
    );
    const createdSeconds = (performance.now() - started) / 1000;
    await watch.until(N);
    const readySeconds = (performance.now() - started) / 1000;
    const cpuAtReady = cpuSeconds(pid);
    const peakRss = procMiB(pid, 'VmHWM');
    const readyRss = procMiB(pid, 'VmRSS');
    const { all, writes, series } = await proc.requests();
    await watch.stop();
    const requestsByKind = [...series]
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k.replace(/^[a-z0-9_]+/, '').replace(/host="[^"]*",?/, '')} ${v}`)
      .join(', ');
    return {
      readySeconds,
      createdSeconds,
      requests: all,
      writes,
      idleRss,
      peakRss,
      readyRss,
      cpuAtReady,
      cpuInWindow: cpuAtReady - cpuBefore,
      requestsByKind,
    };
  } finally {
    await stop(proc);
  }
}

function esoBinary(): string {
  if (process.env.ESO_BIN) return process.env.ESO_BIN;
  return execFileSync(join(root, 'hack/build-eso.sh'), { encoding: 'utf8' }).trim();
}

async function main() {
  const esoBin = esoBinary();
  const nodeOptions = operatorNodeOptions();
  const runs: Run[] = [];
  const same = new Map<string, string>(); // a run the same as another: its id -> the other's
  runs.push({ id: 'eso-default', who: 'eso', concurrency: undefined, title: 'ESO defaults' });
  if (!values['defaults-only']) {
    if (C === ESO_DEFAULT) same.set('eso-c', 'eso-default');
    else runs.push({ id: 'eso-c', who: 'eso', concurrency: C, title: `ESO --concurrent ${C}` });
  }
  runs.push({ id: 'ours-default', who: 'ours', concurrency: undefined, title: 'ours defaults' });
  if (!values['defaults-only']) {
    if (C === OUR_DEFAULT) same.set('ours-c', 'ours-default');
    else runs.push({ id: 'ours-c', who: 'ours', concurrency: C, title: `ours --concurrency ${C}` });
  }

  const dir = mkdtempSync(join(tmpdir(), 'b2b-bench-peer-'));
  const testenv = { ...process.env, TESTENV_DIR: dir, TESTENV_VAULT_EMULATOR: '0' };
  const loadAtStart = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  execFileSync(join(root, 'hack/testenv.sh'), ['up'], {
    env: testenv,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const vars = readEnv(dir);
    const admin = await installCrds(vars);
    const kubectl = join(vars.PATH!.split(':')[0]!, 'kubectl');
    const esoCrds = join(dirname(esoBin), 'crds');
    // Server-side: the SecretStore CRDs exceed the 256 KiB last-applied annotation.
    execFileSync(
      kubectl,
      ['--kubeconfig', vars.KUBECONFIG!, 'apply', '--server-side', '-f', esoCrds],
      {
        stdio: 'ignore',
      },
    );
    execFileSync(
      kubectl,
      [
        '--kubeconfig',
        vars.KUBECONFIG!,
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        'crd',
        '--all',
      ],
      { stdio: 'ignore' },
    );
    const kc = parse(readFileSync(vars.B2B_OPERATOR_KUBECONFIG!, 'utf8')) as KubeconfigFile;
    const env: Env = {
      admin,
      vars,
      esoBin,
      nodeOptions,
      server: kc.clusters[0]!.cluster.server,
      ca: readFileSync(kc.clusters[0]!.cluster['certificate-authority'], 'utf8'),
      clientCert: readFileSync(kc.users[0]!.user['client-certificate'], 'utf8'),
      clientKey: readFileSync(kc.users[0]!.user['client-key'], 'utf8'),
    };

    const results = new Map<string, Result>();
    for (const run of runs) {
      console.error(`${run.title}: ${N} objects, load average ${loadavg()[0]!.toFixed(1)}`);
      const r = await measure(env, run);
      results.set(run.id, r);
      console.error(
        `${run.title}: all Ready in ${r.readySeconds.toFixed(1)} s; requests: ${r.requestsByKind}`,
      );
    }
    for (const [id, other] of same) results.set(id, results.get(other)!);

    const columns: { id: string; title: string }[] = [
      { id: 'eso-default', title: `(a) ESO defaults (--concurrent ${ESO_DEFAULT})` },
      ...(values['defaults-only']
        ? []
        : [
            {
              id: 'eso-c',
              title: `(b) ESO --concurrent ${C}${same.has('eso-c') ? ' (= a)' : ''}`,
            },
          ]),
      { id: 'ours-default', title: `(c) this operator, defaults (--concurrency ${OUR_DEFAULT})` },
      ...(values['defaults-only']
        ? []
        : [
            {
              id: 'ours-c',
              title: `(d) this operator --concurrency ${C}${same.has('ours-c') ? ' (= c, one run)' : ''}`,
            },
          ]),
    ];
    const measures: { name: string; value: (r: Result) => number; digits: number }[] = [
      { name: 'all Ready, s from the first create', value: (r) => r.readySeconds, digits: 1 },
      { name: 'creates done (the bench client), s', value: (r) => r.createdSeconds, digits: 1 },
      { name: 'API requests per object', value: (r) => r.requests / N, digits: 2 },
      { name: 'API writes per object', value: (r) => r.writes / N, digits: 2 },
      { name: 'idle RSS, MiB (5 s after start)', value: (r) => r.idleRss, digits: 0 },
      { name: 'peak RSS (VmHWM), MiB', value: (r) => r.peakRss, digits: 0 },
      { name: 'RSS at all Ready, MiB', value: (r) => r.readyRss, digits: 0 },
      { name: 'CPU s, start to all Ready', value: (r) => r.cpuAtReady, digits: 1 },
      { name: 'CPU s, first create to all Ready', value: (r) => r.cpuInWindow, digits: 1 },
    ];
    const ratios: { title: string; ours: string; eso: string }[] = [
      ...(values['defaults-only']
        ? []
        : [{ title: `ours / ESO at concurrency ${C} (d / b)`, ours: 'ours-c', eso: 'eso-c' }]),
      { title: 'ours / ESO, defaults (c / a)', ours: 'ours-default', eso: 'eso-default' },
    ];
    const header = ['measure', ...columns.map((c) => c.title), ...ratios.map((r) => r.title)];
    const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
    for (const m of measures) {
      const cells = columns.map((c) => m.value(results.get(c.id)!).toFixed(m.digits));
      const rs = ratios.map((r) => {
        const e = m.value(results.get(r.eso)!);
        return e ? (m.value(results.get(r.ours)!) / e).toFixed(2) : '-';
      });
      lines.push(`| ${[m.name, ...cells, ...rs].join(' | ')} |`);
    }
    console.log(
      `${N} objects, bench client concurrency ${C}, started ${startedAt}; ESO ${esoBin}` +
        `${ESO_ARGS.length ? ` (with ${ESO_ARGS.join(' ')})` : ''} as the admin ` +
        `(KUBECONFIG; the operator user's RBAC covers this operator's resources only), its ` +
        `SecretStore authenticating as the operator user (client certificate); this operator: ` +
        `dist/main.js (compiled, as the image) as the operator user, NODE_OPTIONS \`${nodeOptions || '(none)'}\`, ` +
        `${Object.entries(imageEnv())
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')} (the image's ENV)\n`,
    );
    console.log(lines.join('\n'));
    console.log(
      `\nmachine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
        `load average (1, 5, 15 min) ${loadAtStart} at the start, ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} at the end`,
    );
  } finally {
    execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env: testenv, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
