// Which agreements of an integration account use which certificates: AS2 agreements name the
// certificates they sign and encrypt with, per direction
// (content.aS2.{send,receive}Agreement.protocolSettings.securitySettings); X12 and EDIFACT
// agreements name none. One list of the account's agreements (paged) serves all of its
// certificates for the recheck interval; a delete asks again at once (fresh), so that it never
// goes by a list older than the delete.
import type { IntegrationAccountAgreement } from '@azure/arm-logic';
import type { ArmRequests } from './arm-requests.ts';
import type { AzureClients } from './clients.ts';

export interface AgreementUse {
  agreement: string;
  type: string;
  direction: 'send' | 'receive';
  role: 'signing' | 'encryption';
}

/** status.azure.usedBy holds at most this many; status.azure.usedByCount counts them all. */
export const USED_BY_LIMIT = 20;

/** Certificate name (lower-cased: ARM names are case-insensitive) -> the agreements using it. */
export type UsageIndex = ReadonlyMap<string, readonly AgreementUse[]>;

interface SecurityNames {
  signingCertificateName?: string | undefined;
  encryptionCertificateName?: string | undefined;
}
interface OneWay {
  protocolSettings?: { securitySettings?: SecurityNames | undefined } | undefined;
}
/** What is read of an agreement; ARM's answers are not trusted to hold every required part. */
export interface ListedAgreement {
  name?: string | undefined;
  agreementType?: string | undefined;
  content?:
    | { aS2?: { sendAgreement?: OneWay | undefined; receiveAgreement?: OneWay | undefined } }
    | undefined;
}

/** Pure: the certificates each agreement names, agreements by name. */
export function usageIndex(agreements: readonly ListedAgreement[]): UsageIndex {
  const index = new Map<string, AgreementUse[]>();
  const add = (certificate: string | undefined, use: AgreementUse) => {
    if (!certificate) return;
    const key = certificate.toLowerCase();
    index.set(key, [...(index.get(key) ?? []), use]);
  };
  // localeCompare (ICU's order) as before: this order is what status.azure.usedBy shows, and
  // Azure agreement names may mix case; a new order would rewrite those statuses on upgrade
  const sorted = [...agreements].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
  for (const agreement of sorted) {
    const as2 = agreement.content?.aS2;
    if (!as2) continue;
    const name = agreement.name ?? '';
    for (const [direction, oneWay] of [
      ['send', as2.sendAgreement],
      ['receive', as2.receiveAgreement],
    ] as const) {
      const security = oneWay?.protocolSettings?.securitySettings;
      const base = { agreement: name, type: agreement.agreementType ?? 'AS2', direction };
      add(security?.signingCertificateName, { ...base, role: 'signing' });
      add(security?.encryptionCertificateName, { ...base, role: 'encryption' });
    }
  }
  return index;
}

export const usesOf = (index: UsageIndex, certificateName: string): readonly AgreementUse[] =>
  index.get(certificateName.toLowerCase()) ?? [];

/** `partner-as2 (AS2, send signing), …`: how messages name the agreements. */
export function describeUses(uses: readonly AgreementUse[], limit = 5): string {
  const named = uses
    .slice(0, limit)
    .map((u) => `${u.agreement} (${u.type}, ${u.direction} ${u.role})`)
    .join(', ');
  return uses.length > limit ? `${named} and ${uses.length - limit} more` : named;
}

interface Listed {
  at: number;
  value: Promise<UsageIndex>;
  failed?: boolean;
}

/** A list this young (or still in flight) is fresh enough for a delete. */
const FRESH_MS = 2_000;
/**
 * A failed list (403 without agreements/read, an outage) is asked again after this, not by
 * every certificate of the account: 1,000 certificates would send 1,000 lists a recheck.
 */
const FAILED_TTL_MS = 60_000;

export class AgreementUsage {
  private readonly requests: ArmRequests;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly lists = new Map<string, Listed>();

  constructor(requests: ArmRequests, ttlMs: number, now: () => number = Date.now) {
    this.requests = requests;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  /** Accounts whose list is held (tests). */
  get size(): number {
    return this.lists.size;
  }

  forget(connectionKey: string): void {
    this.lists.delete(connectionKey);
  }

  /**
   * The account's usage: the list of this interval (shared by all its certificates), or with
   * `fresh` one started at most a moment ago. A failed list is answered for a minute (a delete,
   * `fresh`, asks again after a moment).
   */
  usage(clients: AzureClients, connectionKey: string, fresh = false): Promise<UsageIndex> {
    const now = this.now();
    this.sweep(now);
    const held = this.lists.get(connectionKey);
    const ttl = held?.failed ? Math.min(FAILED_TTL_MS, this.ttlMs) : this.ttlMs;
    if (held && now - held.at < (fresh ? FRESH_MS : ttl)) return held.value;
    const value = this.list(clients);
    const listed: Listed = { at: now, value };
    this.lists.set(connectionKey, listed);
    value.catch(() => {
      listed.failed = true;
    });
    return value;
  }

  private sweep(now: number): void {
    for (const [key, listed] of this.lists)
      if (now - listed.at >= 2 * this.ttlMs) this.lists.delete(key);
  }

  private async list(clients: AzureClients): Promise<UsageIndex> {
    const { subscriptionId, resourceGroup, name } = clients.spec;
    // One logical request: the pages follow nextLink with the same abort signal.
    const agreements = await this.requests.run(
      subscriptionId,
      'integrationAccountAgreements.list',
      async (abortSignal) => {
        const all: IntegrationAccountAgreement[] = [];
        for await (const agreement of clients.logic.integrationAccountAgreements.list(
          resourceGroup,
          name,
          { abortSignal },
        ))
          all.push(agreement);
        return all;
      },
    );
    return usageIndex(agreements);
  }
}
