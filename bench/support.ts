// What the benchmarks share: a bounded pool of tasks, the test environment's env file, the
// CRDs installed and served, the Deployment's node flags, and a process's memory.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CertificateResource } from '../src/api/types.ts';
import { KubeClient, resourcePath } from '../src/kube/client.ts';

export const root = new URL('..', import.meta.url).pathname;

export async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

export function readEnv(dir: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(dir, 'env'), 'utf8')
      .split('\n')
      .map((l) => /^export ([A-Z0-9_]+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/** Applies crds/ as the admin and waits until Certificates are served. */
export async function installCrds(vars: Record<string, string>): Promise<KubeClient> {
  const kubectl = join(vars.PATH!.split(':')[0]!, 'kubectl');
  execFileSync(kubectl, ['--kubeconfig', vars.KUBECONFIG!, 'apply', '-f', join(root, 'crds')], {
    stdio: 'ignore',
  });
  const admin = KubeClient.load(vars.KUBECONFIG);
  for (let i = 0; i < 300; i++) {
    try {
      await admin.list(resourcePath(CertificateResource));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return admin;
}

/**
 * Starts a test environment with the Key Vault emulator in a temp folder, runs this script
 * again with `--testenv <folder>` and the emulator's CA trusted (Node reads
 * NODE_EXTRA_CA_CERTS at start-up only), then stops it. Returns the run's exit code.
 */
export function rerunInVaultTestenv(prefix: string, keep = false): number {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { ...process.env, TESTENV_DIR: dir };
  try {
    execFileSync(join(root, 'hack/testenv.sh'), ['up'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const vars = readEnv(dir);
    if (!vars.B2B_TEST_VAULT_URL) throw new Error('the test environment has no Key Vault emulator');
    const run = spawnSync(process.execPath, [...process.argv.slice(1), '--testenv', dir], {
      stdio: 'inherit',
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: vars.NODE_EXTRA_CA_CERTS,
        AZURE_POD_IDENTITY_AUTHORITY_HOST: vars.AZURE_POD_IDENTITY_AUTHORITY_HOST,
      },
    });
    return run.status ?? 1;
  } finally {
    execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env, stdio: 'ignore' });
    if (keep) console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

interface DeploymentManifest {
  spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
}

/**
 * The NODE_OPTIONS of deploy/operator/deployment.yaml (the V8 heap caps), so that the benchmark
 * measures the operator as users run it, then OPERATOR_NODE_OPTIONS (e.g. --cpu-prof; a later
 * V8 flag overrides an earlier one).
 */
export function operatorNodeOptions(env: Record<string, string | undefined> = process.env): string {
  const deployment = parse(
    readFileSync(join(root, 'deploy/operator/deployment.yaml'), 'utf8'),
  ) as DeploymentManifest;
  const flags =
    deployment.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'NODE_OPTIONS')
      ?.value ?? '';
  return [flags, env.OPERATOR_NODE_OPTIONS ?? ''].filter(Boolean).join(' ');
}

/**
 * The ENV lines of the Dockerfile's last stage (NODE_ENV, MALLOC_ARENA_MAX), so that the
 * benchmark's operator process runs with what the image gives it.
 */
export function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return Object.fromEntries(
    [...lastStage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After "pid (comm) ": state is field 3 of proc(5); utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU seconds of the test environment's control plane (from its pid files) and of this
 * process, so far: where a run's time went on cores they all share.
 */
export function controlPlaneCpu(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ['kube-apiserver', 'etcd', 'kube-controller-manager']) {
    try {
      out[name] = cpuSeconds(Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim()));
    } catch {
      // not running in this environment
    }
  }
  const self = process.cpuUsage();
  out.benchmark = (self.user + self.system) / 1e6;
  return out;
}

/** A /proc/PID/status field in MiB: VmRSS (now) or VmHWM (peak). */
export function procMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}

/** The pth percentile (0-100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}
