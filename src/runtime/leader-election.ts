// Leader election with a coordination.k8s.io Lease, as client-go does it: acquire when the
// lease is free or expired, renew well before it expires, and stop leading (the process
// exits) when renewal fails, so two operators never reconcile at once.
import {
  LeaseType,
  isConflict,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../kube/client.ts';
import { errorMessage, type Logger } from '../operator/log.ts';

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string;
    acquireTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  private readonly o: Required<LeaderElectionOptions>;

  constructor(options: LeaderElectionOptions) {
    this.o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
  }

  private get requestTimeoutMs(): number {
    return Math.max(500, Math.floor(this.o.renewDeadlineMs / 2));
  }

  private get path() {
    return resourcePath(LeaseType, { namespace: this.o.namespace, name: this.o.name });
  }

  /** One attempt to take or renew the lease; true when we hold it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, namespace, name } = this.o;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(this.o.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    let lease: Lease;
    try {
      lease = await client.request<Lease>('GET', this.path, { timeoutMs: this.requestTimeoutMs });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await client.request('POST', resourcePath(LeaseType, { namespace }), {
          body: {
            metadata: { name, namespace },
            spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
          },
          timeoutMs: this.requestTimeoutMs,
        });
        return true;
      } catch (createErr) {
        if (isConflict(createErr)) return false;
        throw createErr;
      }
    }
    const held = lease.spec.holderIdentity;
    const expires =
      new Date(lease.spec.renewTime ?? 0).getTime() +
      (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    if (held && held !== identity && expires > now.getTime()) return false;
    const transitions = (lease.spec.leaseTransitions ?? 0) + (held === identity ? 0 : 1);
    try {
      await client.request('PUT', this.path, {
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            ...spec,
            leaseTransitions: transitions,
            ...(held === identity ? {} : { acquireTime: microTime(now) }),
          },
        },
        timeoutMs: this.requestTimeoutMs,
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Waits until this process leads, then calls `lead` with a signal that aborts when
   * leadership is lost (or `signal` aborts). Resolves when `lead` returns.
   */
  async run(signal: AbortSignal, lead: (signal: AbortSignal) => Promise<void>): Promise<void> {
    const { log, retryPeriodMs, renewDeadlineMs } = this.o;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    while (!signal.aborted) {
      const acquired = await this.tryAcquireOrRenew().catch((err: unknown) => {
        log.warn('leader election: could not reach the lease', { error: errorMessage(err) });
        return false;
      });
      if (acquired) break;
      await sleep(retryPeriodMs);
    }
    if (signal.aborted) return;
    log.info('leader election: leading', {
      lease: `${this.o.namespace}/${this.o.name}`,
      identity: this.o.identity,
    });
    const leading = new AbortController();
    signal.addEventListener('abort', () => leading.abort(), { once: true });
    let lastRenew = Date.now();
    let renewing = false;
    // The deadline is checked on every tick, not only when a (possibly hanging) renewal returns,
    // and renewals never overlap; each one times out well within the deadline.
    const renew = setInterval(() => {
      if (Date.now() - lastRenew > renewDeadlineMs) {
        if (!leading.signal.aborted) {
          log.error('leader election: could not renew the lease in time; stopping', {
            identity: this.o.identity,
          });
          leading.abort();
        }
        return;
      }
      if (renewing) return;
      renewing = true;
      void this.tryAcquireOrRenew()
        .then((ok) => {
          if (ok) lastRenew = Date.now();
        })
        .catch(() => undefined)
        .finally(() => (renewing = false));
    }, retryPeriodMs);
    try {
      await lead(leading.signal);
    } finally {
      clearInterval(renew);
    }
  }
}
