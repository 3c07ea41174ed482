// The operator as users run it (`make run`): src/main.ts in its own process under the
// non-admin kubeconfig, configured only through B2B_* variables, with the environment a pod
// would have (NODE_EXTRA_CA_CERTS, the managed-identity endpoint). Reads its metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, testenv } from './cluster.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface OperatorProcess {
  child: ChildProcess;
  output(): string;
  metrics(): Promise<string>;
  /** Sum of b2b_keyvault_requests_total, optionally of one operation. */
  keyVaultRequests(operation?: string): Promise<number>;
  stop(): Promise<number | null>;
}

/** One file holding every CA the operator must trust (the emulator's, a proxy's). */
export function caBundle(files: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'b2b-ca-')), 'bundle.pem');
  writeFileSync(file, files.map((f) => readFileSync(f, 'utf8')).join('\n'));
  return file;
}

export async function startOperatorProcess(
  namespace: string,
  env: Record<string, string> = {},
): Promise<OperatorProcess> {
  const child = spawn(
    process.execPath,
    [
      'src/main.ts',
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        B2B_KUBECONFIG: testenv().operatorKubeconfig,
        B2B_WATCH_NAMESPACE: namespace,
        B2B_LOG_LEVEL: 'debug',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const metricsPort = await eventually(
    () => Promise.resolve(/"metricsPort":(\d+)/.exec(output)?.[1]),
    'the operator process to start',
    60_000,
  );
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return {
    child,
    output: () => output,
    metrics,
    async keyVaultRequests(operation) {
      let sum = 0;
      for (const m of (await metrics()).matchAll(/^b2b_keyvault_requests_total\{([^}]*)\} (\d+)/gm))
        if (operation === undefined || m[1]!.includes(`operation="${operation}"`))
          sum += Number(m[2]);
      return sum;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
