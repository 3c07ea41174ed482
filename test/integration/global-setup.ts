// Starts one control plane (etcd, kube-apiserver, and the Key Vault emulator when its jar is
// available) for the whole integration run, installs the CRDs, and stops it all afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export interface TestEnv {
  dir: string;
  adminKubeconfig: string;
  operatorKubeconfig: string;
  kubectl: string;
  /** Flux's kstatus as a command (hack/kstatus). */
  kstatus: string;
  vaultUrl: string | undefined;
  vaultCaFile: string | undefined;
  tokenAuthority: string | undefined;
  /** kube-controller-manager's garbage collector runs (not with envtest's assets). */
  garbageCollector: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testenv: TestEnv;
  }
}

const root = new URL('../..', import.meta.url).pathname;

function readEnvFile(file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

/**
 * `testenv.sh up`, once more if the first start fails (a component that lost a race for its
 * start on a loaded machine): what failed is kept in test-results/testenv-failure.log, which
 * .ci/run prints last when the run fails.
 */
function startTestenv(env: NodeJS.ProcessEnv, dir: string): void {
  const up = () => execFileSync(join(root, 'hack/testenv.sh'), ['up'], { env, stdio: 'inherit' });
  try {
    up();
  } catch (err) {
    recordFailure(dir, err);
    execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env, stdio: 'inherit' });
    console.error('testenv did not start (see test-results/testenv-failure.log); trying once more');
    up();
  }
}

function recordFailure(dir: string, err: unknown): void {
  const logs = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map(
      (f) =>
        `--- ${f} (last 40 lines) ---\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-40).join('\n')}`,
    );
  const ps = spawnSync('ps', ['-eo', 'pid,ppid,pgid,stat,etime,args', '--sort=-pcpu'], {
    encoding: 'utf8',
  }).stdout;
  mkdirSync(join(root, 'test-results'), { recursive: true });
  writeFileSync(
    join(root, 'test-results/testenv-failure.log'),
    [
      `${new Date().toISOString()} testenv up failed: ${String(err)}`,
      ...logs,
      '--- ps ---',
      ps.split('\n').slice(0, 25).join('\n'),
    ].join('\n') + '\n',
  );
}

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-testenv-'));
  const env = { ...process.env, TESTENV_DIR: dir };
  const down = () => {
    try {
      execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env, stdio: 'inherit' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    startTestenv(env, dir);
    const vars = readEnvFile(join(dir, 'env'));
    const kubectl = join(vars.PATH!.split(':')[0]!, 'kubectl');
    const admin = vars.KUBECONFIG!;
    execFileSync(kubectl, ['--kubeconfig', admin, 'apply', '-f', join(root, 'crds')], {
      stdio: 'inherit',
    });
    execFileSync(
      kubectl,
      [
        '--kubeconfig',
        admin,
        'wait',
        '--for=condition=Established',
        'crd',
        '--all',
        '--timeout=60s',
      ],
      {
        stdio: 'inherit',
      },
    );
    // A new CRD answers 429 "storage is (re)initializing" until its watch cache is ready.
    for (let attempt = 0; ; attempt++) {
      try {
        execFileSync(kubectl, ['--kubeconfig', admin, 'get', 'b2b', '-A'], { stdio: 'pipe' });
        break;
      } catch (err) {
        if (attempt > 100) throw err;
        execFileSync('sleep', ['0.2']);
      }
    }
    const server = execFileSync(kubectl, ['--kubeconfig', admin, 'get', '--raw', '/version'], {
      encoding: 'utf8',
    });
    const gitVersion = (JSON.parse(server) as { gitVersion: string }).gitVersion;
    console.log(
      `integration tests against kube-apiserver ${gitVersion} (from /version); binaries:\n` +
        readFileSync(join(dir, 'versions'), 'utf8').trim() +
        (vars.B2B_TEST_VAULT_URL
          ? `\nKey Vault emulator at ${vars.B2B_TEST_VAULT_URL}`
          : '\nKey Vault emulator: not available, vault tests skipped (set LOWKEY_VAULT_JAR to its jar or LOWKEY_VAULT_SRC to its sources)'),
    );
    // Test workers start after this: Node reads NODE_EXTRA_CA_CERTS at start-up, and the
    // managed-identity credential reads its IMDS authority from the environment.
    if (vars.NODE_EXTRA_CA_CERTS) process.env.NODE_EXTRA_CA_CERTS = vars.NODE_EXTRA_CA_CERTS;
    if (vars.AZURE_POD_IDENTITY_AUTHORITY_HOST)
      process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = vars.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    const kstatus = execFileSync(join(root, 'hack/build-kstatus.sh'), { encoding: 'utf8' }).trim();
    project.provide('testenv', {
      dir,
      kstatus,
      adminKubeconfig: admin,
      operatorKubeconfig: vars.B2B_OPERATOR_KUBECONFIG!,
      kubectl,
      vaultUrl: vars.B2B_TEST_VAULT_URL,
      vaultCaFile: vars.NODE_EXTRA_CA_CERTS,
      tokenAuthority: vars.AZURE_POD_IDENTITY_AUTHORITY_HOST,
      garbageCollector: vars.B2B_TEST_GARBAGE_COLLECTOR === '1',
    });
  } catch (err) {
    down();
    throw err;
  }
  return down;
}
