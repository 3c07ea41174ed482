// The operator as a real process (src/main.ts, as the image runs it), as the non-admin
// operator user. Probe and metrics ports are picked by the OS and read from the start-up log.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, testenv } from './cluster.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface OperatorProcess {
  child: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines so far. */
  logs(): Record<string, unknown>[];
  exited: Promise<number | null>;
  probePort: number;
  metricsPort: number;
  /** Status code of a GET on the probe port, undefined when nothing answers. */
  probe(path: '/readyz' | '/healthz'): Promise<number | undefined>;
}

export interface SpawnOptions {
  namespace: string;
  args?: string[];
  env?: Record<string, string>;
  /** Node options before the script, e.g. ['--import', 'test/support/skewed-clock.ts']. */
  nodeArgs?: string[];
  kubeconfig?: string;
}

export async function spawnOperator(options: SpawnOptions): Promise<OperatorProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      'src/main.ts',
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      ...(options.args ?? []),
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        B2B_KUBECONFIG: options.kubeconfig ?? testenv().operatorKubeconfig,
        B2B_WATCH_NAMESPACE: options.namespace,
        B2B_LOG_LEVEL: 'debug',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const logs = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const started = await eventually(
    () => Promise.resolve(logs().find((l) => l.msg === 'operator starting')),
    `the operator to start; output so far: ${output}`,
  );
  const probePort = Number(started.probePort);
  return {
    child,
    pid: child.pid!,
    output: () => output,
    logs,
    exited,
    probePort,
    metricsPort: Number(started.metricsPort),
    async probe(path) {
      try {
        const r = await fetch(`http://127.0.0.1:${probePort}${path}`);
        await r.text();
        return r.status;
      } catch {
        return undefined;
      }
    },
  };
}

/** Waits until `proc` logged a line matching `msg` (after `after` earlier matches). */
export function waitForLog(
  proc: OperatorProcess,
  msg: string | RegExp,
  timeoutMs = 30_000,
  after = 0,
): Promise<Record<string, unknown>> {
  const matches = (l: Record<string, unknown>) =>
    typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg));
  return eventually(
    () => Promise.resolve(proc.logs().filter(matches)[after]),
    `log "${String(msg)}"; output so far:\n${proc.output().slice(-3000)}`,
    timeoutMs,
  );
}

/** SIGKILLs what is still running (test clean-up). */
export function killAll(procs: OperatorProcess[]): void {
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}
