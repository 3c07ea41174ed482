// What the benchmarks share: a bounded pool of tasks, the test environment's env file, and the
// CRDs installed and served.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
