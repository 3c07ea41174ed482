// Runs the test control plane's kubectl as the admin, the way a user types it.
import { execFile, execFileSync } from 'node:child_process';
import { testenv } from './cluster.ts';

export const repoRoot = new URL('../..', import.meta.url).pathname;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output instead of throwing. */
export function run(
  command: string,
  args: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        cwd: options.cwd ?? repoRoot,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (err && !stderr ? err.message : '') });
      },
    );
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** kubectl as the cluster admin; the result carries the output for a readable failure. */
export function kubectl(args: string[], input?: string): Promise<CommandResult> {
  const env = testenv();
  return run(env.kubectl, ['--kubeconfig', env.adminKubeconfig, ...args], { input });
}

/** Fails with kubectl's own words when it does not exit 0. */
export function succeeded(result: CommandResult): string {
  if (result.code !== 0)
    throw new Error(`exit ${result.code}\n${result.stderr}\n${result.stdout}`.trim());
  return result.stdout;
}

/** Stand-ins for the Prometheus Operator's CRDs (test/fixtures), installed once, idempotently. */
export async function installPrometheusOperatorCrds(): Promise<void> {
  succeeded(
    await kubectl(['apply', '--server-side', '-f', 'test/fixtures/prometheus-operator-crds.yaml']),
  );
  succeeded(
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
    ]),
  );
}

/** Retries a command while a new CRD's storage initialises (the API server answers 429/404). */
export async function eventuallySucceeds(
  attempt: () => Promise<CommandResult>,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result.code === 0 || Date.now() > deadline) return succeeded(result);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** How Flux's kstatus reads an object: Current, InProgress, Failed... (hack/kstatus). */
export function kstatus(obj: unknown): string {
  return execFileSync(testenv().kstatus, { input: JSON.stringify(obj), encoding: 'utf8' }).split(
    '\t',
  )[0]!;
}
