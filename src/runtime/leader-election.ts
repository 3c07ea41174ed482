// Leader election with a coordination.k8s.io Lease, as client-go does it. Expiry is judged by
// this process's own monotonic clock from the moment it last saw the record change, never by
// the holder's renewTime, so clock skew between nodes cannot make two leaders. A leader that
// cannot renew within the renew deadline (shorter than the lease) stops at once; on a graceful
// stop it releases the Lease so a standby takes over without waiting for expiry.
import { randomUUID } from 'node:crypto';
import {
  LeaseType,
  isConflict,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../kube/client.ts';
import { errorMessage, type Logger } from '../operator/log.ts';

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
  acquireTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Names this process in the Lease, for people; the identity adds a random UUID to it. */
  hostname: string;
  log: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Wall clock, only for the times written into the Lease (informational to others). */
  now?: () => Date;
  /** Monotonic milliseconds, for every judgement of time. */
  monotonic?: () => number;
}

export type ElectionState = 'candidate' | 'leading' | 'stopped';

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

/**
 * What makes a record "changed": any field (client-go compares the whole record), or any
 * write at all (a new resourceVersion), even one whose times are the same.
 */
const recordOf = (lease: Lease) =>
  JSON.stringify([
    lease.metadata.resourceVersion ?? '',
    lease.spec.holderIdentity ?? '',
    lease.spec.leaseDurationSeconds ?? 0,
    lease.spec.renewTime ?? '',
    lease.spec.acquireTime ?? '',
    lease.spec.leaseTransitions ?? 0,
  ]);

export class LeaderElector {
  /**
   * The Lease's holderIdentity for this process: `<hostname>_<uuid>`, as client-go's. Not the
   * pid: two replicas with host networking on one node share the hostname, and both are pid 1;
   * with one identity both would take the Lease as theirs.
   */
  readonly identity: string;
  private readonly o: Required<LeaderElectionOptions>;
  private observed: { record: string; at: number } | undefined;
  /** Monotonic time at which the last successful renewal was started. */
  private renewedAt = -Infinity;
  private stateValue: ElectionState = 'candidate';
  /** The holder in the last record read. */
  private lastHolder: string | undefined;

  constructor(options: LeaderElectionOptions) {
    this.o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      now: () => new Date(),
      monotonic: () => performance.now(),
      ...options,
    };
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs)
      throw new Error('the renew deadline must be shorter than the lease duration');
    this.identity = `${options.hostname}_${randomUUID()}`;
  }

  get state(): ElectionState {
    return this.stateValue;
  }

  /**
   * True while this process may act as leader: it leads and its last renewal started less
   * than the renew deadline ago. Checked synchronously before each write, so a process that
   * was frozen (SIGSTOP, a long GC pause) refuses to write before its timers even run.
   */
  isLeading(): boolean {
    return (
      this.stateValue === 'leading' && this.o.monotonic() - this.renewedAt < this.o.renewDeadlineMs
    );
  }

  private get requestTimeoutMs(): number {
    return Math.max(500, Math.floor(this.o.renewDeadlineMs / 2));
  }

  private get path() {
    return resourcePath(LeaseType, { namespace: this.o.namespace, name: this.o.name });
  }

  private observe(lease: Lease): void {
    const record = recordOf(lease);
    if (this.observed?.record !== record) this.observed = { record, at: this.o.monotonic() };
  }

  /** One attempt to take or renew the lease; true when we hold it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name } = this.o;
    const identity = this.identity;
    const started = this.o.monotonic();
    const now = this.o.now();
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    let lease: Lease;
    try {
      lease = await client.request<Lease>('GET', this.path, { timeoutMs: this.requestTimeoutMs });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const created = { ...spec, acquireTime: microTime(now), leaseTransitions: 0 };
      try {
        this.observe(
          await client.request<Lease>('POST', resourcePath(LeaseType, { namespace }), {
            body: { metadata: { name, namespace }, spec: created },
            timeoutMs: this.requestTimeoutMs,
          }),
        );
      } catch (createErr) {
        if (isConflict(createErr)) return false;
        throw createErr;
      }
      this.renewedAt = started;
      return true;
    }
    this.observe(lease);
    const held = lease.spec.holderIdentity;
    this.lastHolder = held;
    const durationMs = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    const valid = this.observed!.at + durationMs > this.o.monotonic();
    if (held && held !== identity && valid) return false;
    const next: LeaseSpec = {
      ...lease.spec,
      ...spec,
      leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (held === identity ? 0 : 1),
      ...(held === identity ? {} : { acquireTime: microTime(now) }),
    };
    try {
      this.observe(
        await client.request<Lease>('PUT', this.path, {
          body: { ...lease, spec: next },
          timeoutMs: this.requestTimeoutMs,
        }),
      );
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.renewedAt = started;
    return true;
  }

  /** Gives the lease up (holder cleared), so a standby need not wait for it to expire. */
  private async release(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.releaseOnce();
      } catch (err) {
        if (!isConflict(err) || attempt >= 3) throw err;
      }
    }
  }

  private async releaseOnce(): Promise<void> {
    const lease = await this.o.client.request<Lease>('GET', this.path, {
      timeoutMs: this.requestTimeoutMs,
    });
    if (lease.spec.holderIdentity !== this.identity) return;
    const now = microTime(this.o.now());
    await this.o.client.request('PUT', this.path, {
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: now,
          acquireTime: now,
        },
      },
      timeoutMs: this.requestTimeoutMs,
    });
  }

  /**
   * Waits until this process leads, then calls `lead` with a signal that aborts when
   * leadership is lost (renewal failed past the deadline, or another holder). Resolves when
   * `lead` returns; `signal` aborting is a graceful stop: `lead` is expected to drain, and the
   * lease is released afterwards. Returns whether leadership ended by being lost.
   */
  async run(
    signal: AbortSignal,
    lead: (leading: AbortSignal) => Promise<void>,
  ): Promise<{ lost: boolean }> {
    const { log, retryPeriodMs, renewDeadlineMs } = this.o;
    const identity = this.identity;
    const lease = `${this.o.namespace}/${this.o.name}`;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    log.info('leader election: waiting for the lease', { lease, identity });
    while (!signal.aborted) {
      const acquired = await this.tryAcquireOrRenew().catch((err: unknown) => {
        log.warn('leader election: could not reach the lease', { error: errorMessage(err) });
        return false;
      });
      if (acquired) break;
      await sleep(retryPeriodMs);
    }
    if (signal.aborted) {
      this.stateValue = 'stopped';
      return { lost: false };
    }
    this.stateValue = 'leading';
    log.info('leader election: leading', { lease, identity });
    const leading = new AbortController();
    const lose = (why: string) => {
      if (leading.signal.aborted) return;
      this.stateValue = 'stopped'; // isLeading() refuses writes from here on
      log.error(`leader election: ${why}; stopping`, { lease, identity });
      leading.abort(new Error(`leadership lost: ${why}`));
    };
    let deadline: NodeJS.Timeout | undefined;
    const armDeadline = () => {
      clearTimeout(deadline);
      const left = this.renewedAt + renewDeadlineMs - this.o.monotonic();
      deadline = setTimeout(() => lose('could not renew the lease in time'), Math.max(0, left));
    };
    armDeadline();
    let renewing: Promise<void> | undefined;
    // Renewals never overlap, and each times out well within the deadline.
    const renew = setInterval(() => {
      if (renewing || leading.signal.aborted) return; // renews while draining, too
      renewing = this.tryAcquireOrRenew()
        .then((ok) => {
          if (ok && this.isLeading()) armDeadline();
          // A conflict is retried until the deadline; another holder means it is over.
          else if (!ok && this.lastHolder && this.lastHolder !== identity)
            lose('another process holds the lease');
        })
        .catch((err: unknown) =>
          log.warn('leader election: renewal failed', { lease, error: errorMessage(err) }),
        )
        .finally(() => (renewing = undefined));
    }, retryPeriodMs);
    try {
      await lead(leading.signal);
    } finally {
      clearInterval(renew);
      clearTimeout(deadline);
      await renewing; // a renewal racing the release would make it conflict
    }
    const lost = leading.signal.aborted;
    this.stateValue = 'stopped';
    if (!lost) {
      await this.release().then(
        () => log.info('leader election: lease released', { lease, identity }),
        (err: unknown) =>
          log.warn('leader election: could not release the lease', {
            lease,
            error: errorMessage(err),
          }),
      );
    }
    return { lost };
  }
}
