// make bench-shards: N Public certificates converged by one operator process, then (on the same
// control plane, a fresh namespace) by K shard processes, each --watch-label-selector
// integration.b2b.dev/shard=<shard> over its own accounts and their certificates. Prints the
// time from the first create to all Ready, and each process's peak RSS and CPU seconds.
//   node_modules/.bin/node bench/shards.ts [--count 20000] [--shards 2] [--concurrency 4]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
} from '../src/api/types.ts';
import { NamespaceType, resourcePath, type KubeClient } from '../src/kube/client.ts';
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
    count: { type: 'string', default: '20000' },
    shards: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '4' },
  },
});
const N = Number(values.count);
const SHARDS = Array.from({ length: Number(values.shards) }, (_, i) => String.fromCharCode(97 + i));
const CONCURRENCY = Number(values.concurrency);
const PER_ACCOUNT = 1000; // the Standard quota
const SHARD = 'integration.b2b.dev/shard';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const certificatePem = pem(
  buildCertificate({
    subjectKey: keyPair('rsa2048').publicKey,
    signingKey: keyPair('rsa2048').privateKey,
  }),
);

function startOperator(kubeconfig: string, namespace: string, selector: string): ChildProcess {
  return spawn(
    join(root, 'node_modules/.bin/node'),
    [
      join(root, 'dist/main.js'),
      '--kubeconfig',
      kubeconfig,
      '--watch-namespace',
      namespace,
      `--concurrency=${CONCURRENCY}`,
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      '--log-level=warn',
      ...(selector ? [`--watch-label-selector=${selector}`] : []),
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...imageEnv(), NODE_OPTIONS: operatorNodeOptions() },
    },
  );
}

interface RunResult {
  name: string;
  seconds: number;
  peaks: number[];
  cpu: number[];
}

async function converge(
  admin: KubeClient,
  kubeconfig: string,
  name: string,
  namespace: string,
  shards: string[],
): Promise<RunResult> {
  await admin.create(resourcePath(NamespaceType), { metadata: { name: namespace } });
  const accounts = Math.ceil(N / PER_ACCOUNT);
  const shardOf = (account: number) => (shards.length ? shards[account % shards.length]! : '');
  for (let a = 0; a < accounts; a++)
    await admin.create(resourcePath(IntegrationAccountResource, { namespace }), {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'IntegrationAccount',
      metadata: {
        name: `account-${a}`,
        ...(shardOf(a) ? { labels: { [SHARD]: shardOf(a) } } : {}),
      },
      spec: {},
    });
  const processes = (shards.length ? shards : ['']).map((s) =>
    startOperator(kubeconfig, namespace, s ? `${SHARD}=${s}` : ''),
  );
  await sleep(5000); // caches synced
  const watching = new AbortController();
  const readiness = new Informer<Certificate>({
    name: 'bench-shards',
    client: admin,
    path: resourcePath(CertificateResource, { namespace }),
    log: silentLogger,
  });
  const ready = new Set<string>();
  const onCertificate = (c: Certificate) => {
    if (c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
      ready.add(c.metadata.name);
  };
  readiness.on({ added: onCertificate, updated: (_, c) => onCertificate(c) });
  const watch = readiness.run(watching.signal);
  await readiness.waitForSync();
  const started = performance.now();
  await pool(N, 8, async (i) => {
    const account = Math.floor(i / PER_ACCOUNT);
    await admin.create(resourcePath(CertificateResource, { namespace }), {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: {
        name: `partner-${i}`,
        ...(shardOf(account) ? { labels: { [SHARD]: shardOf(account) } } : {}),
      },
      spec: {
        integrationAccount: { name: `account-${account}` },
        type: 'Public',
        certificate: { inline: certificatePem },
      },
    });
  });
  while (ready.size < N) {
    if (processes.some((p) => p.exitCode !== null)) throw new Error(`${name}: an operator exited`);
    await sleep(250);
  }
  const seconds = (performance.now() - started) / 1000;
  const peaks = processes.map((p) => procMiB(p.pid!, 'VmHWM'));
  const cpu = processes.map((p) => cpuSeconds(p.pid!));
  watching.abort();
  await watch;
  for (const p of processes) p.kill('SIGTERM');
  await Promise.all(processes.map((p) => new Promise((r) => p.once('exit', r))));
  console.error(`${name}: ${N} Ready in ${seconds.toFixed(1)} s`);
  return { name, seconds, peaks, cpu };
}

async function main() {
  const loadAtStart = loadavg()[0]!;
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  const dir = mkdtempSync(join(tmpdir(), 'b2b-bench-shards-'));
  const env = { ...process.env, TESTENV_DIR: dir, TESTENV_VAULT_EMULATOR: '0' };
  execFileSync(join(root, 'hack/testenv.sh'), ['up'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const vars = readEnv(dir);
    const admin = await installCrds(vars);
    const kubeconfig = vars.B2B_OPERATOR_KUBECONFIG!;
    const one = await converge(admin, kubeconfig, 'one process', 'bench-one', []);
    const sharded = await converge(
      admin,
      kubeconfig,
      `${SHARDS.length} shards`,
      'bench-sharded',
      SHARDS,
    );
    const mib = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' + ');
    const rows = [
      [
        'certificates',
        `${N} in ${Math.ceil(N / PER_ACCOUNT)} accounts, concurrency ${CONCURRENCY} per process`,
      ],
      ['one process: all Ready, from the first create', `${one.seconds.toFixed(1)} s`],
      [
        `${SHARDS.length} shards: all Ready, from the first create`,
        `${sharded.seconds.toFixed(1)} s`,
      ],
      ['**ratio shards / one process**', `**${(sharded.seconds / one.seconds).toFixed(2)}**`],
      [
        'peak RSS (VmHWM): one process / each shard',
        `${mib(one.peaks)} MiB / ${mib(sharded.peaks)} MiB`,
      ],
      [
        'CPU seconds: one process / each shard',
        `${one.cpu[0]!.toFixed(0)} / ${sharded.cpu.map((c) => c.toFixed(0)).join(' + ')}`,
      ],
      [
        'machine',
        `${cpus().length} cores, Node ${process.version}, load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} (1, 5, 15 min) at the end`,
      ],
    ];
    console.log('| measure | value |\n|---|---|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  } finally {
    execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
