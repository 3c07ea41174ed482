// What the benchmarks share: a bounded pool of tasks, the test environment's env file, and the
// CRDs installed and served.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
