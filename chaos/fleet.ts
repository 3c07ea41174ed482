// The processes the chaos run breaks: operator replicas (src/main.ts as the image runs it, as
// the non-admin user, with leader election) supervised the way a kubelet restarts a container,
// and the control plane's components stopped and started again by hack/testenv.sh.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const LEADING = '"msg":"leader election: leading"';

export type Component = 'etcd' | 'kube-apiserver' | 'kube-controller-manager';

/** hack/testenv.sh stop|start COMPONENT on the control plane in `dir`. */
export function controlPlane(dir: string, action: 'stop' | 'start', component: Component) {
  return new Promise<void>((resolve, reject) =>
    execFile(
      join(root, 'hack/testenv.sh'),
      [action, component],
      { env: { ...process.env, TESTENV_DIR: dir } },
      (err, _out, stderr) =>
        err ? reject(new Error(`${action} ${component}: ${stderr}`)) : resolve(),
    ),
  );
}

interface Replica {
  child: ChildProcess;
  log: WriteStream;
  /** Whether this process logged that it leads (tail of its output, to spot the line). */
  leads: boolean;
  /** When it logged that it leads (ms since the epoch). */
  leadingSince: number;
  killedByUs: boolean;
}

export interface FleetOptions {
  replicas: number;
  kubeconfig: string;
  namespace: string;
  /** Where each process's output goes (operator-<slot>-<n>.log): the secret scan reads them. */
  logDir: string;
  env: Record<string, string>;
  args: string[];
  onEvent: (what: string) => void;
}

export class Fleet {
  private readonly slots: (Replica | undefined)[];
  private readonly starts: number[];
  private stopping = false;
  readonly logFiles: string[] = [];
  selfExits = 0;

  private readonly o: FleetOptions;

  constructor(o: FleetOptions) {
    this.o = o;
    this.slots = Array.from({ length: o.replicas }, () => undefined);
    this.starts = this.slots.map(() => 0);
  }

  start(): void {
    for (let slot = 0; slot < this.slots.length; slot++) this.spawn(slot);
  }

  private spawn(slot: number): void {
    const file = join(this.o.logDir, `operator-${slot}-${this.starts[slot]!++}.log`);
    this.logFiles.push(file);
    const log = createWriteStream(file);
    const child = spawn(
      process.execPath,
      [
        'src/main.ts',
        `--kubeconfig=${this.o.kubeconfig}`,
        `--watch-namespace=${this.o.namespace}`,
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        ...this.o.args,
      ],
      { cwd: root, env: { ...process.env, ...this.o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const replica: Replica = { child, log, leads: false, leadingSince: 0, killedByUs: false };
    let tail = '';
    const onData = (d: Buffer) => {
      log.write(d);
      tail = (tail + d.toString()).slice(-4096);
      if (!replica.leads && tail.includes(LEADING)) {
        replica.leads = true;
        replica.leadingSince = Date.now();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      log.end();
      if (this.slots[slot] === replica) this.slots[slot] = undefined;
      if (this.stopping || replica.killedByUs) return;
      // Exited by itself (e.g. its lease lapsed while the API server was down): restarted.
      this.selfExits++;
      this.o.onEvent(`operator ${slot} exited by itself (${signal ?? `code ${code}`}); restarted`);
      setTimeout(() => !this.stopping && this.spawn(slot), 1_000);
    });
    this.slots[slot] = replica;
  }

  /** The slot whose process leads now, if any. */
  leader(): number | undefined {
    const i = this.slots.findIndex((r) => r?.leads && r.child.exitCode === null);
    return i < 0 ? undefined : i;
  }

  /** How long the leader has led, in ms (0 when nobody leads). */
  leadingFor(): number {
    const i = this.leader();
    return i === undefined ? 0 : Date.now() - this.slots[i]!.leadingSince;
  }

  /** SIGKILLs the process in `slot` and starts a new one after `restartAfterMs`. */
  kill(slot: number, restartAfterMs: number): boolean {
    const replica = this.slots[slot];
    if (!replica || replica.child.exitCode !== null) return false;
    replica.killedByUs = true;
    replica.child.kill('SIGKILL');
    this.slots[slot] = undefined;
    setTimeout(() => !this.stopping && this.spawn(slot), restartAfterMs);
    return true;
  }

  alive(): number {
    return this.slots.filter((r) => r && r.child.exitCode === null).length;
  }

  /** SIGTERM to every process (a rollout's end); waits for them to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    await new Promise((r) => setTimeout(r, 1_500)); // restarts already scheduled have fired
    const running = this.slots.filter(
      (r): r is Replica => r !== undefined && r.child.exitCode === null,
    );
    await Promise.all(
      running.map(
        (r) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => r.child.kill('SIGKILL'), 30_000);
            r.child.on('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            r.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
