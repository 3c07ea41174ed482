// From the verdicts to the status a user reads: conditions (Ready first), inspection fields,
// the vault key and the store reference. Pure, so every combination is a unit test.
import { ConditionType, Reason } from '../../api/reasons.ts';
import {
  findCondition,
  mergeConditions,
  sameStatus,
  type DesiredCondition,
} from '../../api/conditions.ts';
import type { Certificate, CertificateStatus } from '../../api/types.ts';
import type { CertificateInfo } from '../../certificates/inspect.ts';
import type { AzureAdoptionRecord, AzureEntryAccess, SyncResult } from '../../stores/store.ts';
import { describeUses, USED_BY_LIMIT, type AgreementUse } from '../../stores/azure/agreements.ts';
import type { KeyVerdict } from '../../vaults/verifier.ts';
import type { Evaluation, Failure, KeyVaultSourceVersion } from './evaluate.ts';

export type StoreOutcome =
  | {
      kind: 'synced';
      ref: string;
      written: boolean;
      /** e.g. `Secret x`; defaults to that. */
      location?: string | undefined;
      recheck?: boolean | undefined;
      /** The Secret's resourceVersion (kubernetes store), recorded with a write. */
      version?: string | undefined;
      /** Azure store: how the entry is reached (status.store.azure). */
      azure?: AzureEntryAccess | undefined;
      /** Azure store: adopted without a write (status.store.adopted). */
      adopted?: AzureAdoptionRecord | undefined;
      /** Azure store: the agreements that use it (status.azure). */
      usage?: SyncResult['usage'];
      /** Azure store: earlier entries kept because agreements use them (status.store.kept). */
      kept?: SyncResult['kept'];
      keptRecheckMs?: number | undefined;
    }
  | {
      kind: 'failed';
      reason: Reason;
      message: string;
      /** Defaults: StoreConflict terminal, others retried. */
      terminal?: boolean | undefined;
      retryAfterMs?: number | undefined;
    }
  | { kind: 'skipped' };

/** Source certificate.keyVault following renewals: the latest version, and its fate. */
export interface RenewalOutcome {
  /** The latest enabled version read from the vault. */
  latest: KeyVaultSourceVersion;
  thumbprint?: string | undefined;
  /** The latest version failed this check; `kept` (the last good version) stays in the store. */
  rejected?: { reason: Reason; message: string } | undefined;
  kept?: string | undefined;
  /** spec.rollover: the latest version passed every check and waits until its switch time. */
  pending?: NonNullable<CertificateStatus['pending']> | undefined;
}

/** status.pending was for this spec: renewals followed, a delay, the same vault and name. */
const pendingStillApplies = (certificate: Certificate): boolean => {
  const source = certificate.spec.certificate.keyVault;
  const inStore = certificate.status?.keyVaultCertificate;
  return (
    source !== undefined &&
    !source.version &&
    certificate.spec.rollover !== undefined &&
    inStore?.vault === source.vault &&
    inStore.name === source.name
  );
};

const locationOf = (store: Extract<StoreOutcome, { kind: 'synced' }>) =>
  store.location ?? `Secret ${store.ref}`;

/** status.azure: the first uses, and how many there are. */
export function azureUsage(uses: readonly AgreementUse[]): NonNullable<CertificateStatus['azure']> {
  return {
    usedBy: uses
      .slice(0, USED_BY_LIMIT)
      .map(({ agreement, type, direction, role }) => ({ agreement, type, direction, role })),
    usedByCount: uses.length,
  };
}

export interface StatusInputs {
  certificate: Certificate;
  evaluation: Evaluation;
  keyVerdict: KeyVerdict | undefined;
  store: StoreOutcome;
  storeRef: string;
  /** Source certificate.keyVault following renewals. */
  renewal?: RenewalOutcome | undefined;
  now: Date;
  /** A verified key keeps its lastVerifiedTime for this long (no status write per reconcile). */
  recheckIntervalMs?: number;
}

export interface StatusResult {
  status: CertificateStatus;
  /** The failure that Ready reports, if any. */
  failure: Failure | undefined;
  /** Retry with backoff (a transient error). */
  retry: boolean;
  /** The vault asked to wait this long (Retry-After). */
  retryAfterMs?: number | undefined;
}

const sameAccess = (a: AzureEntryAccess | undefined, b: AzureEntryAccess | undefined) =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The first failure across checks, vault verification and store, in table order. */
function overallFailure(inputs: StatusInputs): Failure | undefined {
  const { evaluation, keyVerdict, store } = inputs;
  if (evaluation.failure) return evaluation.failure;
  if (keyVerdict && !keyVerdict.ok) {
    return {
      reason: keyVerdict.reason,
      message: keyVerdict.message,
      terminal: keyVerdict.terminal,
      condition: 'KeyVaultAccessGranted',
    };
  }
  if (store.kind === 'failed') {
    return {
      reason: store.reason,
      message: store.message,
      terminal: store.terminal ?? store.reason === Reason.StoreConflict,
      condition: 'Ready',
    };
  }
  return undefined;
}

function certificateValidCondition({ evaluation }: StatusInputs): DesiredCondition {
  const { verdict, failure } = evaluation;
  if (failure?.condition === 'CertificateValid') {
    return {
      type: ConditionType.CertificateValid,
      status: 'False',
      reason: failure.reason,
      message: failure.message,
    };
  }
  if (verdict?.ok) {
    const { publicKey, notAfter } = verdict.certificate;
    const ignored = verdict.ignoredCertificates
      ? `; ${verdict.ignoredCertificates} further certificate(s) in the bundle ignored`
      : '';
    return {
      type: ConditionType.CertificateValid,
      status: 'True',
      reason: Reason.Valid,
      message: `valid X.509 certificate (${publicKey.algorithm} ${publicKey.size}), valid until ${iso(notAfter)}${ignored}`,
    };
  }
  if (verdict && !verdict.ok) {
    return {
      type: ConditionType.CertificateValid,
      status: 'False',
      reason: verdict.failure.reason,
      message: verdict.failure.message,
    };
  }
  return {
    type: ConditionType.CertificateValid,
    status: 'Unknown',
    reason: Reason.Progressing,
    message: 'the certificate has not been checked yet',
  };
}

function keyVaultCondition({
  certificate,
  evaluation,
  keyVerdict,
}: StatusInputs): DesiredCondition | undefined {
  if (certificate.spec.type !== 'Private') return undefined;
  const type = ConditionType.KeyVaultAccessGranted;
  if (evaluation.failure?.condition === 'KeyVaultAccessGranted') {
    return {
      type,
      status: 'False',
      reason: evaluation.failure.reason,
      message: evaluation.failure.message,
    };
  }
  if (keyVerdict?.ok) {
    return {
      type,
      status: 'True',
      reason: Reason.AccessGranted,
      message: `${keyVerdict.grants.join(', ')} verified on key ${keyVerdict.name} version ${keyVerdict.version} in ${keyVerdict.vaultUrl}`,
    };
  }
  if (keyVerdict)
    return {
      type,
      status: keyVerdict.terminal ? 'False' : 'Unknown',
      reason: keyVerdict.reason,
      message: keyVerdict.message,
    };
  return {
    type,
    status: 'Unknown',
    reason: Reason.Progressing,
    message: 'the key is verified once the certificate checks pass',
  };
}

function syncedCondition(inputs: StatusInputs, failure: Failure | undefined): DesiredCondition {
  const { store, storeRef, certificate } = inputs;
  const type = ConditionType.Synced;
  if (store.kind === 'synced')
    return {
      type,
      status: 'True',
      reason: Reason.Synced,
      message: `${locationOf(store)} holds the certificate${
        store.usage && 'unknown' in store.usage
          ? `; which agreements use it is not known: ${store.usage.unknown}`
          : ''
      }`,
    };
  if (store.kind === 'failed')
    return { type, status: 'False', reason: store.reason, message: store.message };
  const kept = certificate.status?.store?.ref
    ? `the store keeps the last good version (${storeRef})`
    : 'nothing has been stored yet';
  return {
    type,
    status: 'False',
    reason: failure?.reason ?? Reason.Progressing,
    message: `not synced: ${failure?.message ?? 'checks in progress'}; ${kept}`,
  };
}

/**
 * Azure store: earlier entries (before a move) kept because agreements use them. A condition of
 * its own, so Ready says how the new entry is; absent when none is kept.
 */
function previousEntryCondition({
  store,
  certificate,
}: StatusInputs): DesiredCondition | undefined {
  // Synced: what this sync found (none kept: no condition). Otherwise nothing was learnt.
  const kept =
    store.kind === 'synced'
      ? (store.kept ?? [])
      : certificate.status?.store?.kept?.length
        ? undefined
        : [];
  if (kept === undefined) {
    // Nothing learnt this time: the condition stays as it was.
    const was = certificate.status?.conditions?.find(
      (c) => c.type === ConditionType.PreviousEntryInUse,
    );
    return was && { type: was.type, status: was.status, reason: was.reason, message: was.message };
  }
  if (!kept.length) return undefined;
  const first = kept[0]!;
  return {
    type: ConditionType.PreviousEntryInUse,
    status: 'True',
    reason: first.reason,
    message: kept.length > 1 ? `${kept.map((k) => k.message).join('; ')}` : first.message,
  };
}

function readyCondition(failure: Failure | undefined, store: StoreOutcome): DesiredCondition {
  if (failure)
    return {
      type: ConditionType.Ready,
      status: 'False',
      reason: failure.reason,
      message: failure.message,
    };
  const where = store.kind === 'synced' ? ` and synced to ${locationOf(store)}` : '';
  return {
    type: ConditionType.Ready,
    status: 'True',
    reason: Reason.Ready,
    message: `the certificate is valid${where}`,
  };
}

/**
 * RenewalReady, for a Key Vault certificate followed through its renewals: True once the
 * latest enabled version is in the store, False while it is rejected and the last good one
 * stays. Nothing in the store yet (or nothing read): Ready says why.
 */
function renewalCondition(
  renewal: RenewalOutcome | undefined,
  inStore: CertificateStatus['keyVaultCertificate'],
): DesiredCondition | undefined {
  if (!renewal) return undefined;
  const type = ConditionType.RenewalReady;
  const { latest, rejected, kept } = renewal;
  const named = `version ${latest.version} of Key Vault certificate ${latest.name}`;
  if (renewal.pending)
    return {
      type,
      status: 'False',
      reason: Reason.RolloverScheduled,
      message: `${named} (thumbprint ${renewal.pending.thumbprint ?? ''}) passed every check and replaces version ${kept ?? '?'} at ${renewal.pending.switchTime ?? '?'} (spec.rollover.delay); annotate integration.b2b.dev/rollover-now to switch at once`,
    };
  if (rejected)
    return {
      type,
      status: 'False',
      reason: rejected.reason,
      message: `${named}${renewal.thumbprint ? ` (thumbprint ${renewal.thumbprint})` : ''} is not used: ${rejected.message}; version ${kept ?? '?'} stays in the store`,
    };
  if (inStore?.version === latest.version)
    return {
      type,
      status: 'True',
      reason: Reason.LatestVersionSynced,
      message: `${named}, the latest enabled version, is in the store`,
    };
  return {
    type,
    status: 'Unknown',
    reason: Reason.Progressing,
    message: `${named} is not in the store yet; Ready says why`,
  };
}

/** The previous lastVerifiedTime, while the same key verified the same way is still fresh. */
function keptVerificationTime(
  previous: CertificateStatus['key'],
  verdict: Extract<KeyVerdict, { ok: true }>,
  recheckIntervalMs: number,
): string | undefined {
  if (!previous?.lastVerifiedTime) return undefined;
  const same =
    previous.vaultUrl === verdict.vaultUrl &&
    previous.name === verdict.name &&
    previous.version === verdict.version &&
    JSON.stringify(previous.grants) === JSON.stringify(verdict.grants);
  const age = verdict.verifiedAt.getTime() - new Date(previous.lastVerifiedTime).getTime();
  return same && age >= 0 && age < recheckIntervalMs ? previous.lastVerifiedTime : undefined;
}

/** The status fields that describe the certificate itself (also what `b2b inspect` prints). */
export function inspectionFields(info: CertificateInfo) {
  return {
    thumbprint: info.thumbprint,
    sha256Fingerprint: info.sha256Fingerprint,
    subject: info.subject,
    issuer: info.issuer,
    serialNumber: info.serialNumber,
    notBefore: iso(info.notBefore),
    notAfter: iso(info.notAfter),
    keyUsage: info.keyUsage ?? [],
    extendedKeyUsage: info.extendedKeyUsage,
    publicKey: info.publicKey,
  } satisfies Partial<CertificateStatus>;
}

export function buildCertificateStatus(inputs: StatusInputs): StatusResult {
  const { certificate, evaluation, keyVerdict, store, now } = inputs;
  const failure = overallFailure(inputs);
  const transient = failure !== undefined && !failure.terminal;
  const desired: DesiredCondition[] = [
    readyCondition(failure, store),
    certificateValidCondition(inputs),
  ];
  const keyCondition = keyVaultCondition(inputs);
  if (keyCondition) desired.push(keyCondition);
  desired.push(syncedCondition(inputs, failure));
  const keptCondition = previousEntryCondition(inputs);
  if (keptCondition) desired.push(keptCondition);
  if (evaluation.expiry) {
    desired.push(
      evaluation.expiry.expiring
        ? {
            type: ConditionType.Expiring,
            status: 'True',
            reason: Reason.ExpiresSoon,
            message: evaluation.expiry.message,
          }
        : {
            type: ConditionType.Expiring,
            status: 'False',
            reason: evaluation.expiry.expired ? Reason.CertificateExpired : Reason.NotExpiring,
            message: evaluation.expiry.message,
          },
    );
  }
  const read = evaluation.source?.found ? evaluation.source.keyVault : undefined;
  const inStore =
    store.kind === 'synced' && read
      ? { vault: read.vault, name: read.name, version: read.version }
      : certificate.status?.keyVaultCertificate;
  const renewalReady = renewalCondition(inputs.renewal, inStore);
  if (renewalReady) desired.push(renewalReady);
  if (transient)
    desired.push({
      type: ConditionType.Reconciling,
      status: 'True',
      reason: failure.reason,
      message: failure.message,
    });
  if (failure?.terminal)
    desired.push({
      type: ConditionType.Stalled,
      status: 'True',
      reason: failure.reason,
      message: failure.message,
    });

  const generation = certificate.metadata.generation ?? 0;
  const previous = certificate.status;
  const status: CertificateStatus = {
    observedGeneration: generation,
    conditions: mergeConditions(previous?.conditions, desired, generation, now),
  };
  const info = evaluation.info;
  if (info) Object.assign(status, inspectionFields(info));
  if (inStore && certificate.spec.certificate.keyVault) status.keyVaultCertificate = inStore;
  if (inputs.renewal?.pending) status.pending = inputs.renewal.pending;
  else if (!inputs.renewal && previous?.pending && pendingStillApplies(certificate)) {
    // The latest version could not be read this time: a pending switch keeps its time (it
    // would otherwise start its whole delay again at the next read).
    status.pending = previous.pending;
  }
  if (keyVerdict?.ok) {
    status.key = {
      vaultUrl: keyVerdict.vaultUrl,
      name: keyVerdict.name,
      version: keyVerdict.version,
      grants: keyVerdict.grants,
      lastVerifiedTime:
        keptVerificationTime(previous?.key, keyVerdict, inputs.recheckIntervalMs ?? 3_600_000) ??
        iso(keyVerdict.verifiedAt),
    };
  } else if (previous?.key && certificate.spec.type === 'Private') {
    status.key = previous.key;
  }
  if (store.kind === 'synced') {
    // The version only with a write (or a first record): never a status write of its own.
    // A new place (a move confirmed without a write, after its previous entry was removed) or
    // new credentials for it are recorded too: deletion reads where and how the entry is.
    status.store =
      store.written ||
      !previous?.store ||
      previous.store.ref !== store.ref ||
      !sameAccess(previous.store.azure, store.azure)
        ? {
            ref: store.ref,
            syncedTime: iso(now),
            ...(store.version ? { resourceVersion: store.version } : {}),
            ...(store.azure ? { azure: store.azure } : {}),
          }
        : previous.store;
    // Confirmed without a write (read, or an entry synced by an older version): the status is
    // written anyway for another reason, so it carries the version along and the next restart
    // confirms this Secret from the cache instead of reading it.
    if (
      !store.written &&
      store.version &&
      status.store.resourceVersion !== store.version &&
      !sameStatus(previous, status)
    )
      status.store = { ...status.store, resourceVersion: store.version };
    // Held on the record of an adoption without a write until a write adds our marker.
    const where = { ...status.store };
    delete where.adopted;
    delete where.kept;
    status.store = {
      ...where,
      ...(store.adopted ? { adopted: store.adopted } : {}),
      ...(store.kept?.length
        ? { kept: store.kept.map(({ ref, azure }) => ({ ref, ...(azure ? { azure } : {}) })) }
        : {}),
    };
  } else if (previous?.store) {
    status.store = previous.store; // the last good version is still there
  }
  // Who uses the entry, as last read; nothing when it could not be read this time.
  if (store.kind === 'synced') {
    if (store.usage && 'uses' in store.usage) status.azure = azureUsage(store.usage.uses);
  } else if (previous?.azure) status.azure = previous.azure;
  return {
    status,
    failure,
    retry: transient && !failure.waiting,
    retryAfterMs:
      keyVerdict && !keyVerdict.ok
        ? keyVerdict.retryAfterMs
        : store.kind === 'failed'
          ? store.retryAfterMs
          : undefined,
  };
}

/** Events mirror transitions: what to emit when `before` becomes `after`. */
export function transitionEvents(
  before: CertificateStatus | undefined,
  after: CertificateStatus,
  store: StoreOutcome,
): { type: 'Normal' | 'Warning'; reason: string; message: string }[] {
  const events: { type: 'Normal' | 'Warning'; reason: string; message: string }[] = [];
  const was = findCondition(before?.conditions, ConditionType.Ready);
  const now = findCondition(after.conditions, ConditionType.Ready);
  if (store.kind === 'synced' && store.written) {
    // A replacement (a renewal, a new PEM) of a certificate agreements use: their partners
    // need the new public certificate.
    const uses = store.usage && 'uses' in store.usage ? store.usage.uses : [];
    const replaced = !!before?.thumbprint && before.thumbprint !== after.thumbprint;
    events.push({
      type: 'Normal',
      reason: 'Synced',
      message: `certificate ${after.thumbprint ?? ''} synced to ${locationOf(store)}${
        replaced && uses.length
          ? `; the agreements ${describeUses(uses)} now use it: their partners need the new public certificate`
          : ''
      }`,
    });
  }
  // Progressing is no failure (a new account's first status is awaited): no Warning for it.
  if (
    now &&
    now.status !== 'True' &&
    now.reason !== Reason.Progressing &&
    (was?.status !== now.status || was.reason !== now.reason)
  ) {
    events.push({ type: 'Warning', reason: now.reason, message: now.message });
  }
  const renewedFrom = before?.keyVaultCertificate?.version;
  const renewedTo = after.keyVaultCertificate?.version;
  if (store.kind === 'synced' && store.written && renewedFrom && renewedTo !== renewedFrom) {
    events.push({
      type: 'Normal',
      reason: Reason.Renewed,
      message: `Key Vault certificate ${after.keyVaultCertificate?.name ?? ''}: version ${renewedTo ?? ''} (thumbprint ${after.thumbprint ?? ''}) replaced version ${renewedFrom} (thumbprint ${before?.thumbprint ?? ''}) in ${locationOf(store)}`,
    });
  }
  const renewalBefore = findCondition(before?.conditions, ConditionType.RenewalReady);
  const renewalNow = findCondition(after.conditions, ConditionType.RenewalReady);
  if (after.pending && after.pending.version !== before?.pending?.version)
    events.push({
      type: 'Normal',
      reason: Reason.RolloverScheduled,
      message: renewalNow?.message ?? `version ${after.pending.version ?? ''} scheduled`,
    });
  if (
    renewalNow?.status === 'False' &&
    renewalNow.reason !== Reason.RolloverScheduled &&
    (renewalBefore?.status !== 'False' || renewalBefore.message !== renewalNow.message)
  )
    events.push({ type: 'Warning', reason: Reason.RenewalRejected, message: renewalNow.message });
  const keptBefore = findCondition(before?.conditions, ConditionType.PreviousEntryInUse);
  const keptNow = findCondition(after.conditions, ConditionType.PreviousEntryInUse);
  if (keptNow && (keptBefore?.reason !== keptNow.reason || keptBefore.message !== keptNow.message))
    events.push({ type: 'Warning', reason: keptNow.reason, message: keptNow.message });
  const expiringBefore = findCondition(before?.conditions, ConditionType.Expiring);
  const expiringNow = findCondition(after.conditions, ConditionType.Expiring);
  if (
    expiringNow?.status === 'True' &&
    expiringBefore?.status !== 'True' &&
    now?.status === 'True'
  ) {
    events.push({ type: 'Warning', reason: Reason.ExpiresSoon, message: expiringNow.message });
  }
  return events;
}

/**
 * A deleted Certificate whose store entry could not be removed: Reconciling says why the
 * finalizer stays; the rest of the status is left as it was.
 */
export function notRemovedStatus(
  certificate: Certificate,
  message: string,
  now: Date,
): CertificateStatus {
  const previous = certificate.status;
  const generation = certificate.metadata.generation ?? 0;
  const conditions = mergeConditions(
    previous?.conditions,
    [
      ...(previous?.conditions ?? [])
        .filter((c) => c.type !== ConditionType.Reconciling)
        .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
      {
        type: ConditionType.Reconciling,
        status: 'True',
        reason: Reason.StoreEntryNotRemoved,
        message,
      },
    ],
    generation,
    now,
  );
  return { ...previous, conditions };
}

/**
 * A deleted Certificate whose Azure entry is kept because agreements use it (or their list
 * cannot be read): Ready says so, Reconciling says the finalizer waits, status.azure who uses it.
 */
export function inUseStatus(
  certificate: Certificate,
  reason: Reason,
  message: string,
  uses: readonly AgreementUse[] | undefined,
  now: Date,
): CertificateStatus {
  const previous = certificate.status;
  const generation = certificate.metadata.generation ?? 0;
  const kept = (previous?.conditions ?? [])
    .filter((c) => c.type !== ConditionType.Reconciling && c.type !== ConditionType.Ready)
    .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  const conditions = mergeConditions(
    previous?.conditions,
    [
      { type: ConditionType.Ready, status: 'False', reason, message },
      ...kept,
      { type: ConditionType.Reconciling, status: 'True', reason, message },
    ],
    generation,
    now,
  );
  return { ...previous, conditions, ...(uses ? { azure: azureUsage(uses) } : {}) };
}
