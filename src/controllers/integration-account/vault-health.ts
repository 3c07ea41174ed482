// When to probe an account's vaults: on a change of the vault's entry (a new connection is a
// new key here) and once every recheck interval; sooner while a vault is unreachable, so
// that its recovery shows. The account reconciler runs often (certificate counts); probes don't.
import type { VaultConnection } from '../../vaults/verifier.ts';
import type { VaultHealth } from './status.ts';

/** Reachability of a vault the account may use; the answer says when to ask again. */
export interface VaultProbes {
  health(
    namespace: string,
    vault: VaultConnection,
  ): Promise<{ health: VaultHealth; nextCheckInMs: number }>;
}

export type ProbeVault = (
  namespace: string,
  vault: VaultConnection,
) => Promise<Omit<VaultHealth, 'name' | 'checkedAt'>>;

export interface VaultHealthScheduleOptions {
  probe: ProbeVault;
  recheckIntervalMs: number;
  /** How soon an unreachable vault is probed again (at most the recheck interval). */
  unreachableRecheckMs?: number;
  now?: () => Date;
}

export class VaultHealthSchedule implements VaultProbes {
  private readonly options: Required<VaultHealthScheduleOptions>;
  private readonly known = new Map<string, VaultHealth>();

  constructor(options: VaultHealthScheduleOptions) {
    this.options = {
      unreachableRecheckMs: 60_000,
      now: () => new Date(),
      ...options,
    };
  }

  private intervalFor(health: VaultHealth): number {
    const { recheckIntervalMs, unreachableRecheckMs } = this.options;
    return health.reachable ? recheckIntervalMs : Math.min(recheckIntervalMs, unreachableRecheckMs);
  }

  async health(
    namespace: string,
    vault: VaultConnection,
  ): Promise<{ health: VaultHealth; nextCheckInMs: number }> {
    const id = JSON.stringify([namespace, vault]);
    const now = this.options.now().getTime();
    const cached = this.known.get(id);
    if (cached) {
      const dueIn = cached.checkedAt.getTime() + this.intervalFor(cached) - now;
      if (dueIn > 0) return { health: cached, nextCheckInMs: dueIn };
    }
    const checkedAt = this.options.now();
    const result = await this.options.probe(namespace, vault);
    const health: VaultHealth = { name: vault.name, checkedAt, ...result };
    this.forgetOlderThan(now - 2 * this.options.recheckIntervalMs);
    this.known.set(id, health);
    return { health, nextCheckInMs: this.intervalFor(health) };
  }

  /** Entries of vaults removed from their account's spec. */
  private forgetOlderThan(cutoff: number): void {
    for (const [id, health] of this.known)
      if (health.checkedAt.getTime() < cutoff) this.known.delete(id);
  }
}
