// What `b2b status` shows, as pure functions of the objects read from the cluster: one table
// of accounts and certificates, most urgent first, and one certificate explained in words.
import { findCondition } from '../api/conditions.ts';
import type { Certificate, Condition, IntegrationAccount } from '../api/types.ts';

export interface StatusRow {
  kind: 'IntegrationAccount' | 'Certificate';
  namespace: string;
  name: string;
  account: string;
  type: string;
  ready: string;
  reason: string;
  message: string;
  /** notAfter of a certificate, ISO; empty when unknown. */
  expires: string;
  /** 0 failed (stalled), 1 waiting or retrying, 2 not processed yet, 3 expiring, 4 fine. */
  urgency: number;
  /** spec.rollover: a new Key Vault certificate version waiting for its switch time. */
  pending?: { version: string; thumbprint: string; switchTime: string } | undefined;
}

const current = (o: Certificate | IntegrationAccount) =>
  o.status?.observedGeneration !== undefined &&
  o.status.observedGeneration === o.metadata.generation;

function urgencyOf(o: Certificate | IntegrationAccount): number {
  const conditions = o.status?.conditions;
  const ready = findCondition(conditions, 'Ready');
  if (!ready || !current(o)) return 2;
  if (findCondition(conditions, 'Stalled')?.status === 'True') return 0;
  if (ready.status !== 'True') return findCondition(conditions, 'Reconciling') ? 1 : 0;
  return findCondition(conditions, 'Expiring')?.status === 'True' ? 3 : 4;
}

function row(o: Certificate | IntegrationAccount): StatusRow {
  const ready = findCondition(o.status?.conditions, 'Ready');
  const notProcessed = !ready || !current(o);
  const base = {
    namespace: o.metadata.namespace,
    name: o.metadata.name,
    ready: notProcessed ? 'Unknown' : ready.status,
    reason: notProcessed ? 'NotProcessed' : ready.reason,
    message: notProcessed
      ? 'the operator has not processed this generation yet (is it running and watching this namespace?)'
      : ready.message,
    urgency: urgencyOf(o),
  };
  if (o.kind === 'IntegrationAccount')
    return {
      ...base,
      kind: o.kind,
      account: o.metadata.name,
      type: o.spec.sku ?? 'Standard',
      expires: '',
    };
  const pending = o.status?.pending;
  return {
    ...base,
    kind: 'Certificate',
    account: o.spec.integrationAccount.name,
    type: o.spec.type,
    expires: o.status?.notAfter ?? '',
    ...(pending?.version
      ? {
          pending: {
            version: pending.version,
            thumbprint: pending.thumbprint ?? '',
            switchTime: pending.switchTime ?? '',
          },
        }
      : {}),
  };
}

const pendingWords = (p: NonNullable<StatusRow['pending']>, now: Date) =>
  `version ${p.version} (thumbprint ${p.thumbprint}) replaces the synced one at ${p.switchTime} (${relativeTime(p.switchTime, now)})`;

/** Failing first, then waiting, unprocessed, expiring; within each, the soonest expiry first. */
export function statusRows(
  accounts: readonly IntegrationAccount[],
  certificates: readonly Certificate[],
): StatusRow[] {
  const expiry = (r: StatusRow) => (r.expires ? Date.parse(r.expires) : Number.POSITIVE_INFINITY);
  return [...accounts, ...certificates]
    .map(row)
    .sort(
      (a, b) =>
        a.urgency - b.urgency ||
        expiry(a) - expiry(b) ||
        a.namespace.localeCompare(b.namespace) ||
        a.kind.localeCompare(b.kind) ||
        a.name.localeCompare(b.name),
    );
}

export function relativeTime(iso: string, now: Date): string {
  if (!iso) return '';
  const ms = Date.parse(iso) - now.getTime();
  const abs = Math.abs(ms);
  const unit =
    abs >= 2 * 86_400_000
      ? `${Math.floor(abs / 86_400_000)}d`
      : abs >= 2 * 3_600_000
        ? `${Math.floor(abs / 3_600_000)}h`
        : `${Math.max(1, Math.floor(abs / 60_000))}m`;
  return ms >= 0 ? `in ${unit}` : `${unit} ago`;
}

export function statusTable(rows: readonly StatusRow[], now: Date, allNamespaces: boolean): string {
  if (rows.length === 0) return 'No IntegrationAccounts or Certificates found.\n';
  const header = [
    ...(allNamespaces ? ['NAMESPACE'] : []),
    'KIND',
    'NAME',
    'ACCOUNT',
    'TYPE',
    'READY',
    'REASON',
    'EXPIRES',
    'MESSAGE',
  ];
  const cells = rows.map((r) => [
    ...(allNamespaces ? [r.namespace] : []),
    r.kind === 'Certificate' ? 'Certificate' : 'Account',
    r.name,
    r.account,
    r.type,
    r.ready,
    r.reason,
    r.expires ? `${r.expires.slice(0, 10)} (${relativeTime(r.expires, now)})` : '',
    r.message.length > 100 ? `${r.message.slice(0, 97)}...` : r.message,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const pending = rows.filter((r) => r.pending);
  const switchOvers = pending.length
    ? [
        '',
        'Pending switch-overs (spec.rollover):',
        ...pending.map((r) => `  ${r.namespace}/${r.name}: ${pendingWords(r.pending!, now)}`),
      ]
    : [];
  return [line(header), ...cells.map(line), ...switchOvers].join('\n') + '\n';
}

export interface EventSummary {
  type: string;
  reason: string;
  message: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
  metadata?: { creationTimestamp?: string };
}

export interface StoreEntry {
  name: string;
  /** Undefined when the Secret does not exist. */
  secret:
    | {
        keys: string[];
        ownedByThisCertificate: boolean;
        keyReference: string | undefined;
      }
    | undefined;
}

const conditionLine = (c: Condition) =>
  `  ${`${c.type}=${c.status}`.padEnd(28)} ${c.reason}: ${c.message}`;

/** The demo's "why is it not Ready", for any certificate. */
export function explainCertificate(
  certificate: Certificate,
  events: readonly EventSummary[],
  store: StoreEntry,
  now: Date,
): string {
  const { namespace, name, generation } = certificate.metadata;
  const status = certificate.status;
  const conditions = status?.conditions ?? [];
  const ready = findCondition(conditions, 'Ready');
  const out: string[] = [
    `Certificate ${namespace}/${name}: ${certificate.spec.type}, IntegrationAccount ${certificate.spec.integrationAccount.name}`,
  ];
  if (!ready || !current(certificate)) {
    out.push(
      `Not processed yet: generation ${generation ?? '?'} has no status from the operator (observed: ${status?.observedGeneration ?? 'none'}). Is the operator running and watching ${namespace}? (\`b2b check api\`)`,
    );
  } else if (ready.status === 'True') {
    out.push(`Ready: ${ready.message}`);
  } else {
    out.push(`Not Ready because ${ready.reason}: ${ready.message}`);
    const stalled = findCondition(conditions, 'Stalled')?.status === 'True';
    out.push(
      stalled
        ? 'The operator has stopped retrying: only a change to the Certificate, its source or its account fixes this.'
        : 'The operator is waiting or retrying on its own; it will turn Ready when the cause goes away.',
    );
  }
  const expiring = findCondition(conditions, 'Expiring');
  if (expiring?.status === 'True') out.push(`Expiring: ${expiring.message}`);
  const pending = row(certificate).pending;
  if (pending) out.push(`Pending: ${pendingWords(pending, now)}`);
  if (conditions.length) out.push('', 'Conditions:', ...conditions.map(conditionLine));
  if (status?.thumbprint) {
    out.push(
      '',
      'Certificate:',
      `  subject ${status.subject ?? ''}, issuer ${status.issuer ?? ''}`,
      `  valid ${status.notBefore ?? '?'} .. ${status.notAfter ?? '?'} (${status.notAfter ? `expires ${relativeTime(status.notAfter, now)}` : ''})`,
      `  thumbprint ${status.thumbprint}, key ${status.publicKey?.algorithm ?? '?'} ${status.publicKey?.size ?? ''}, Key Usage ${status.keyUsage?.join(', ') || '(none)'}`,
    );
  }
  if (status?.key)
    out.push(
      `  vault key ${status.key.name ?? ''} in ${status.key.vaultUrl ?? ''} (version ${status.key.version ?? ''}), grants verified: ${status.key.grants?.join(', ') ?? 'none'} at ${status.key.lastVerifiedTime ?? '?'}`,
    );
  out.push('', 'Store:', `  ${storeWords(store, status?.store?.syncedTime)}`);
  if (status?.azure) out.push('', ...usedByLines(status.azure));
  out.push(
    '',
    events.length
      ? 'Events (oldest first):'
      : 'Events: none (events expire after an hour by default).',
  );
  for (const e of events) {
    const when =
      e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '';
    const times = e.count && e.count > 1 ? ` (x${e.count})` : '';
    out.push(
      `  ${when ? relativeTime(when, now).padEnd(8) : ''} ${e.type} ${e.reason}${times}: ${e.message}`,
    );
  }
  return out.join('\n') + '\n';
}

/** Azure store: the agreements that sign or encrypt with the certificate (status.azure). */
function usedByLines(azure: NonNullable<NonNullable<Certificate['status']>['azure']>): string[] {
  const uses = azure.usedBy ?? [];
  const count = azure.usedByCount ?? uses.length;
  if (!count) return ['Used by: no agreement of the integration account'];
  return [
    `Used by ${count} agreement use(s):`,
    ...uses.map((u) => `  ${u.agreement} (${u.type}, ${u.direction} ${u.role})`),
    ...(count > uses.length ? [`  and ${count - uses.length} more`] : []),
  ];
}

function storeWords(store: StoreEntry, syncedTime: string | undefined): string {
  if (!store.secret)
    return `Secret ${store.name} does not exist: the certificate has not passed its checks yet, so nothing was synced.`;
  if (!store.secret.ownedByThisCertificate)
    return `Secret ${store.name} exists but is not owned by this Certificate: the operator will not overwrite it (StoreConflict).`;
  const key = store.secret.keyReference ? `; key reference ${store.secret.keyReference}` : '';
  return `Secret ${store.name} holds ${store.secret.keys.join(', ')}${syncedTime ? `, last written ${syncedTime}` : ''}${key} (no key material)`;
}
