// The Certificate reconciler: gather, decide, act, report. Level-triggered: it reads the
// latest object from the cache, so running it twice is harmless, and it writes only what
// differs.
import { ConditionType, Reason } from '../../api/reasons.ts';
import { findCondition, sameStatus, statusPatch } from '../../api/conditions.ts';
import {
  API_VERSION,
  CertificateResource,
  FINALIZER,
  type Certificate,
  type CertificateStatus,
  type IntegrationAccount,
} from '../../api/types.ts';
import { isNotFound, resourcePath, type KubeClient } from '../../kube/client.ts';
import type { EventRecorder } from '../../operator/events.ts';
import type { Logger } from '../../operator/log.ts';
import type { Metrics } from '../../operator/metrics.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import {
  CertificateInUseError,
  StoreConflictError,
  StorePrerequisiteError,
  type Store,
  type SyncResult,
} from '../../stores/store.ts';
import type { KeyVerdict, KeyVerifier } from '../../vaults/verifier.ts';
import type { CertificateReader } from '../../vaults/certificate-source.ts';
import { followsRenewals, readKeyVaultSource } from './keyvault-source.ts';
import { parseGoDuration } from '../../certificates/duration.ts';
import type { SourceState } from './evaluate.ts';
import { errorMessage } from '../../operator/log.ts';
import type { IdentityPolicy } from '../../identity/policy.ts';
import { azureSignInFailure } from '../../vaults/azure/errors.ts';
import { evaluateCertificate, expiryWarningMs, type Evaluation } from './evaluate.ts';
import { quotaPlace, readSource, type Lookups } from './gather.ts';
import {
  buildCertificateStatus,
  inUseStatus,
  notRemovedStatus,
  transitionEvents,
  type RenewalOutcome,
  type StoreOutcome,
} from './status.ts';

export interface CertificateReconcilerDeps {
  client: KubeClient;
  certificate(key: string): Certificate | undefined;
  lookups: Lookups;
  store: Store;
  keyVerifier: KeyVerifier;
  events: EventRecorder;
  metrics: Metrics;
  log: Logger;
  now: () => Date;
  allowedVaultHosts: readonly string[];
  /** --azure-identity-policy (none: every method allowed). */
  identityPolicy?: IdentityPolicy | undefined;
  recheckIntervalMs: number;
  /** Reads Key Vault certificates (source certificate.keyVault), polled per this interval. */
  certificateReader?: CertificateReader | undefined;
  keyVaultPollIntervalMs?: number | undefined;
  /**
   * Whether the Certificate CRD is being deleted (or is gone): an uninstall, which deletes every
   * Certificate. Asked before an entry is removed; an error leaves the finalizer (retried).
   */
  certificateCrdDeleting(): Promise<boolean>;
  /**
   * Whether the watch saw this Certificate (by uid) deleted with the `orphan` finalizer: the
   * garbage collector removes it at once (a store entry is no dependent), maybe before the
   * reconcile reads the object.
   */
  deletedWithOrphan(uid: string | undefined): boolean;
}

/** Key verdicts that only a change in the vault fixes. */
const RECHECKED_KEY_REASONS: ReadonlySet<string> = new Set([
  Reason.AccessDenied,
  Reason.KeyNotFound,
  Reason.KeyDisabled,
  Reason.KeyExpired,
  Reason.KeyMismatch,
  Reason.KeyOperationNotPermitted,
]);

export const DEFAULT_KEYVAULT_POLL_INTERVAL_MS = 5 * 60_000;

interface EffectiveKey {
  name: string;
  version: string | undefined;
}

/**
 * The key to verify: spec.key as written, else (certificate.keyVault, Private) the certificate's
 * own key at the version that belongs to the certificate version read.
 */
function keyOf(certificate: Certificate, source: SourceState): EffectiveKey | undefined {
  if (certificate.spec.type !== 'Private') return undefined;
  if (certificate.spec.key)
    return { name: certificate.spec.key.name, version: certificate.spec.key.version };
  return source.found && source.keyVault?.key ? source.keyVault.key : undefined;
}

export const ROLLOVER_NOW_ANNOTATION = 'integration.b2b.dev/rollover-now';

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * spec.rollover: a valid new version waits until `delay` after it was first seen (kept in
 * status.pending), or its notBefore if later; undefined when it may be synced now.
 */
function rolloverHold(
  certificate: Certificate,
  version: string,
  info: Evaluation['info'],
  now: Date,
): NonNullable<CertificateStatus['pending']> | undefined {
  const delayMs = parseGoDuration(certificate.spec.rollover?.delay ?? '');
  if (!delayMs || !info) return undefined;
  if (certificate.metadata.annotations?.[ROLLOVER_NOW_ANNOTATION] !== undefined) return undefined;
  const previous = certificate.status?.pending;
  const seen =
    previous?.version === version && previous.seenTime ? new Date(previous.seenTime) : now;
  const switchAt = Math.max(seen.getTime() + delayMs, info.notBefore.getTime());
  if (now.getTime() >= switchAt) return undefined;
  return {
    version,
    thumbprint: info.thumbprint,
    notBefore: iso(info.notBefore),
    notAfter: iso(info.notAfter),
    seenTime: iso(seen),
    switchTime: iso(new Date(switchAt)),
  };
}

/** The failure a version reports, as Ready would: the checks first, then the key. */
function overallFailureOf(evaluation: Evaluation, keyVerdict: KeyVerdict | undefined) {
  if (evaluation.failure)
    return { reason: evaluation.failure.reason, message: evaluation.failure.message };
  if (keyVerdict && !keyVerdict.ok)
    return { reason: keyVerdict.reason, message: keyVerdict.message };
  return { reason: Reason.Progressing, message: 'not checked' };
}

/** Only a change by the user fixes it (disabled, expired, gone), not waiting. */
const terminalFailure = (evaluation: Evaluation, keyVerdict: KeyVerdict | undefined): boolean =>
  evaluation.failure
    ? evaluation.failure.terminal
    : keyVerdict?.ok === false && keyVerdict.terminal;

/** Every check passed: the store gets the entry. */
const mayStore = (
  evaluation: Evaluation,
  keyVerdict: KeyVerdict | undefined,
): evaluation is Evaluation & { info: NonNullable<Evaluation['info']> } =>
  !evaluation.failure && evaluation.info !== undefined && (!keyVerdict || keyVerdict.ok);

/**
 * Retain, or `kubectl delete --cascade=orphan` (the API server adds the `orphan` finalizer):
 * the store entry outlives the Certificate, as a dependent does under orphan propagation.
 */
const keepsStoreEntry = (certificate: Certificate, seenOrphan: boolean): boolean =>
  certificate.spec.deletionPolicy === 'Retain' ||
  seenOrphan ||
  (certificate.metadata.finalizers ?? []).includes('orphan');

/** A transient failure: the status says what is wrong, and the queue retries with backoff. */
export class RetryLater extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

export class CertificateReconciler {
  private readonly deps: CertificateReconcilerDeps;

  constructor(deps: CertificateReconcilerDeps) {
    this.deps = deps;
  }

  reconcile = async (key: string): Promise<ReconcileResult | undefined> => {
    const cached = this.deps.certificate(key);
    if (!cached) {
      const [namespace = '', name = ''] = key.split('/');
      this.deps.metrics.removeCertificate(namespace, name);
      this.deps.store.forget(namespace, name);
      return undefined;
    }
    if (cached.metadata.deletionTimestamp) return this.finalize(cached);
    // Even before a check passes: a Secret written under Delete must not be collected once the
    // policy says Retain.
    const certificate = await this.ensureFinalizer(cached);
    return certificate && this.sync(certificate);
  };

  /**
   * Adds our finalizer where deletion needs the operator (the store says), once; never removes
   * one outside deletion. Undefined when the object is gone.
   */
  private async ensureFinalizer(certificate: Certificate): Promise<Certificate | undefined> {
    const finalizers = certificate.metadata.finalizers ?? [];
    if (finalizers.includes(FINALIZER) || !this.deps.store.needsFinalizer(certificate))
      return certificate;
    return this.setFinalizers(certificate, [...finalizers, FINALIZER]);
  }

  private async sync(initial: Certificate): Promise<ReconcileResult | undefined> {
    let certificate = initial;
    const { lookups, now: clock } = this.deps;
    const now = clock();
    const { namespace } = certificate.metadata;
    const accountName = certificate.spec.integrationAccount.name;
    const account = lookups.account(namespace, accountName);
    const source = await this.readSource(certificate, account);
    let { evaluation, keyVerdict } = await this.check(certificate, account, source, now);
    let renewal: RenewalOutcome | undefined;
    if (followsRenewals(certificate) && source.found && source.keyVault) {
      renewal = { latest: source.keyVault, thumbprint: evaluation.info?.thumbprint };
      const lastGood = this.lastGoodVersion(certificate, source.keyVault.version);
      // A new version that fails a check changes nothing: the last good one stays in the store.
      // One that passes waits for spec.rollover.delay, the last good one synced meanwhile.
      const pending =
        lastGood && mayStore(evaluation, keyVerdict)
          ? rolloverHold(certificate, source.keyVault.version, evaluation.info, now)
          : undefined;
      if (lastGood && (pending || !mayStore(evaluation, keyVerdict))) {
        const previous = await this.check(
          certificate,
          account,
          await this.readSource(certificate, account, lastGood),
          now,
        );
        if (mayStore(previous.evaluation, previous.keyVerdict)) {
          renewal = pending
            ? { ...renewal, pending, kept: lastGood }
            : { ...renewal, rejected: overallFailureOf(evaluation, keyVerdict), kept: lastGood };
          ({ evaluation, keyVerdict } = previous);
        } else if (
          (pending || terminalFailure(evaluation, keyVerdict)) &&
          !terminalFailure(previous.evaluation, previous.keyVerdict)
        ) {
          // The latest passed (pending) or was rejected, but the vault is busy or down for the
          // last good version: going on with the latest would switch a pending version early,
          // or report a rejected one as the certificate's own failure. Nothing changes until
          // the last good version can be checked again. (Both failing for the same passing
          // reason, e.g. the vault down, is reported as it is.)
          const failure = overallFailureOf(previous.evaluation, previous.keyVerdict);
          throw new RetryLater(
            `version ${lastGood} (in the store) could not be checked again: ${failure.message}`,
            previous.keyVerdict && !previous.keyVerdict.ok
              ? previous.keyVerdict.retryAfterMs
              : undefined,
          );
        }
      }
    }
    if (mayStore(evaluation, keyVerdict)) {
      // Again right before the write: the account may have moved to a store that needs one.
      const updated = await this.ensureFinalizer(certificate);
      if (!updated) return undefined;
      certificate = updated;
    }
    const store = await this.syncStore(certificate, evaluation, keyVerdict);
    const result = buildCertificateStatus({
      certificate,
      evaluation,
      keyVerdict,
      store,
      renewal,
      // Where the last good version is: where it was written, not where it would go now.
      storeRef: certificate.status?.store?.ref || this.deps.store.refFor(certificate),
      now,
      recheckIntervalMs: this.deps.recheckIntervalMs,
    });
    await this.report(certificate, result.status, store);
    if (result.retry)
      throw new RetryLater(result.failure?.message ?? 'retrying', result.retryAfterMs);
    const next = this.nextVisit(evaluation, keyVerdict, store, now, certificate);
    // A pending version comes back at its switch time.
    const switchAt = renewal?.pending?.switchTime;
    const untilSwitch = switchAt ? Date.parse(switchAt) - now.getTime() + 1000 : undefined;
    return {
      requeueAfterMs:
        untilSwitch === undefined ? next : Math.max(0, Math.min(next ?? untilSwitch, untilSwitch)),
    };
  }

  private readSource(
    certificate: Certificate,
    account: IntegrationAccount | undefined,
    version?: string,
  ): Promise<SourceState> {
    if (!certificate.spec.certificate.keyVault)
      return readSource(this.deps.client, this.deps.lookups, certificate);
    return readKeyVaultSource(
      this.deps.certificateReader,
      {
        certificate,
        account,
        allowedVaultHosts: this.deps.allowedVaultHosts,
        identityPolicy: this.deps.identityPolicy,
      },
      version,
    );
  }

  /** The checks of the table, then the key probed for real: one version of the certificate. */
  private async check(
    certificate: Certificate,
    account: IntegrationAccount | undefined,
    source: SourceState,
    now: Date,
  ): Promise<{ evaluation: Evaluation; keyVerdict: KeyVerdict | undefined }> {
    const evaluation = evaluateCertificate({
      certificate,
      account,
      quota: quotaPlace(certificate, account, this.deps.lookups),
      source,
      now,
      allowedVaultHosts: this.deps.allowedVaultHosts,
      identityPolicy: this.deps.identityPolicy,
    });
    const key = keyOf(certificate, source);
    return { evaluation, keyVerdict: await this.verifyKey(certificate, evaluation, key) };
  }

  /**
   * The Key Vault certificate version in the store, when it is not `latest` and still of the
   * certificate the spec names: the one to keep if `latest` fails a check.
   */
  private lastGoodVersion(certificate: Certificate, latest: string): string | undefined {
    const kept = certificate.status?.keyVaultCertificate;
    const source = certificate.spec.certificate.keyVault;
    if (!kept?.version || !source || !certificate.status?.store?.ref) return undefined;
    if (kept.vault !== source.vault || kept.name !== source.name) return undefined;
    return kept.version === latest ? undefined : kept.version;
  }

  private async verifyKey(
    certificate: Certificate,
    evaluation: Evaluation,
    key: EffectiveKey | undefined,
  ): Promise<KeyVerdict | undefined> {
    if (evaluation.failure || !evaluation.vault || !evaluation.info || !key) return undefined;
    return this.deps.keyVerifier.verify({
      namespace: certificate.metadata.namespace,
      vault: evaluation.vault,
      key: { name: key.name, version: key.version || undefined },
      certificate: evaluation.info,
      specChanged: certificate.metadata.generation !== certificate.status?.observedGeneration,
    });
  }

  private async syncStore(
    certificate: Certificate,
    evaluation: Evaluation,
    keyVerdict: KeyVerdict | undefined,
  ): Promise<StoreOutcome> {
    const outcome: StoreOutcome = mayStore(evaluation, keyVerdict)
      ? await this.writeStore(certificate, evaluation, keyVerdict)
      : { kind: 'skipped' };
    // Nothing written (a check or the write failed), so the last good version stays: before
    // observedGeneration reports a change to Retain, it must not go with the Certificate.
    if (outcome.kind !== 'synced') await this.deps.store.applyDeletionPolicy(certificate);
    return outcome;
  }

  private async writeStore(
    certificate: Certificate,
    evaluation: Evaluation & { info: NonNullable<Evaluation['info']> },
    keyVerdict: KeyVerdict | undefined,
  ): Promise<StoreOutcome> {
    try {
      const result = await this.deps.store.sync({
        certificate,
        pem: evaluation.info.pem,
        metadata: (certificate.spec.metadata ?? {}) as Record<string, string>,
        key:
          keyVerdict?.ok && evaluation.vault
            ? {
                vault: evaluation.vault.name,
                vaultUrl: keyVerdict.vaultUrl,
                name: keyVerdict.name,
                version: keyVerdict.version,
              }
            : undefined,
      });
      if (result.taken) this.recordTaken(certificate, result.taken);
      if (result.restored)
        this.recordRestored(
          certificate,
          result.location ?? `Secret ${result.ref}`,
          result.restored,
        );
      return { kind: 'synced', ...result };
    } catch (err) {
      if (err instanceof StoreConflictError)
        return { kind: 'failed', reason: Reason.StoreConflict, message: err.message };
      if (err instanceof StorePrerequisiteError)
        return {
          kind: 'failed',
          reason: err.reason as Reason,
          message: err.message,
          terminal: err.terminal,
          retryAfterMs: err.retryAfterMs,
        };
      const signIn = azureSignInFailure(err); // the SDK's text runs over lines, with links
      if (signIn) return { kind: 'failed', ...signIn };
      return {
        kind: 'failed',
        reason: Reason.StoreWriteFailed,
        message: `writing the store failed: ${errorMessage(err)}`,
      };
    }
  }

  /** spec.adoption let the store take an entry this Certificate had not written. */
  private recordTaken(certificate: Certificate, taken: NonNullable<SyncResult['taken']>): void {
    this.deps.log.info('store entry taken', {
      namespace: certificate.metadata.namespace,
      name: certificate.metadata.name,
      how: taken.event,
    });
    this.deps.events.emit(
      { apiVersion: API_VERSION, kind: 'Certificate', metadata: certificate.metadata },
      taken.event === 'Adopted' ? 'Normal' : 'Warning',
      taken.event === 'Adopted' ? Reason.Adopted : Reason.Overwritten,
      taken.message,
    );
  }

  private recordRestored(certificate: Certificate, location: string, what: string[]) {
    const message = `${location} was changed by someone else (${what.join(', ')}); restored what the operator wrote`;
    this.deps.log.info('store entry restored', {
      namespace: certificate.metadata.namespace,
      name: certificate.metadata.name,
      changed: what.join(', '),
    });
    this.deps.events.emit(
      { apiVersion: API_VERSION, kind: 'Certificate', metadata: certificate.metadata },
      'Warning',
      Reason.StoreRestored,
      message,
    );
  }

  /** Writes status only when it differs, records transition events and metrics. */
  private async report(
    certificate: Certificate,
    status: CertificateStatus,
    store: StoreOutcome,
  ): Promise<void> {
    const { client, events, metrics } = this.deps;
    const { namespace, name } = certificate.metadata;
    if (!sameStatus(certificate.status, status)) {
      const patch = statusPatch(certificate.status, status);
      // The resourceVersion makes this conditional: conditions replace the list whole, so a
      // condition another writer added since our cache saw the object must not be lost (409).
      const transitions = transitionEvents(certificate.status, status, store);
      const emit = (e: (typeof transitions)[number]) =>
        events.emit(
          { apiVersion: API_VERSION, kind: 'Certificate', metadata: certificate.metadata },
          e.type,
          e.reason,
          e.message,
        );
      try {
        await client.patch(
          resourcePath(CertificateResource, { namespace, name, subresource: 'status' }),
          { metadata: { resourceVersion: certificate.metadata.resourceVersion }, status: patch },
        );
      } catch (err) {
        // The store was written all the same, and the retry (after a 409: our cache was behind
        // our own last status write) finds it current: its Synced event would be lost.
        transitions.filter((e) => e.reason === 'Synced').forEach(emit);
        throw err;
      }
      transitions.forEach(emit);
    }
    const ready = findCondition(status.conditions, 'Ready')?.status ?? 'Unknown';
    metrics.setCertificate(
      {
        namespace,
        name,
        account: certificate.spec.integrationAccount.name,
        type: certificate.spec.type,
      },
      ready,
      status.notAfter ? new Date(status.notAfter) : undefined,
      expiryWarningMs(certificate),
    );
    const switchTime = status.pending?.switchTime;
    metrics.setRollover(namespace, name, switchTime ? new Date(switchTime) : undefined);
    metrics.setCertificateInUse(namespace, name, status.azure?.usedByCount);
  }

  /** The next moment the verdict changes by itself: expiry window, notAfter, a key recheck. */
  private nextVisit(
    evaluation: Evaluation,
    keyVerdict: KeyVerdict | undefined,
    store: StoreOutcome,
    now: Date,
    certificate?: Certificate,
  ): number | undefined {
    const moments: number[] = [];
    // A Key Vault certificate source is read again each poll interval: renewals show then.
    if (certificate?.spec.certificate.keyVault)
      moments.push(this.deps.keyVaultPollIntervalMs ?? DEFAULT_KEYVAULT_POLL_INTERVAL_MS);
    const next = evaluation.expiry?.nextTransition;
    if (next) moments.push(next.getTime() - now.getTime() + 1000);
    // Verified keys are re-verified (grants get revoked, keys rotate); denied, missing, disabled,
    // expired and mismatched ones are rechecked too: they are fixed in the vault, which nothing
    // watches. The interval runs from when the vault was asked (a cached verdict is older); a
    // verdict already older than that was reused past its recheck, and asking again in a second
    // would only get it again: the next check is then a whole interval away.
    const checkedAt = keyVerdict?.ok ? keyVerdict.verifiedAt : keyVerdict?.checkedAt;
    if (keyVerdict?.ok || (keyVerdict && RECHECKED_KEY_REASONS.has(keyVerdict.reason))) {
      const age = checkedAt ? now.getTime() - checkedAt.getTime() : 0;
      const left = this.deps.recheckIntervalMs - age;
      moments.push(left > 0 ? Math.max(1000, left) : this.deps.recheckIntervalMs);
    }
    // A store outside the cluster has no watch: drift and fixed prerequisites show on a recheck.
    if ((store.kind === 'synced' && store.recheck) || (store.kind === 'failed' && store.terminal))
      moments.push(this.deps.recheckIntervalMs);
    // Earlier entries kept for agreements go as soon as no agreement uses them.
    if (store.kind === 'synced' && store.kept?.length && store.keptRecheckMs !== undefined)
      moments.push(store.keptRecheckMs);
    return moments.length ? Math.max(0, Math.min(...moments)) : undefined;
  }

  private async finalize(certificate: Certificate): Promise<ReconcileResult | undefined> {
    const finalizers = certificate.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return undefined;
    try {
      if (keepsStoreEntry(certificate, this.deps.deletedWithOrphan(certificate.metadata.uid)))
        await this.deps.store.release(certificate);
      else if (await this.deps.certificateCrdDeleting()) await this.releaseOnUninstall(certificate);
      else await this.deps.store.remove(certificate);
    } catch (err) {
      // In use (or unknown whether): no failure, a wait, rechecked at its own pace.
      if (
        err instanceof StorePrerequisiteError &&
        (err.reason === Reason.CertificateInUse || err.reason === Reason.CertificateUsageUnknown)
      ) {
        await this.reportInUse(certificate, err);
        return { requeueAfterMs: err.retryAfterMs ?? this.deps.recheckIntervalMs };
      }
      // The finalizer stays: an entry is never left behind without a word.
      await this.reportNotRemoved(certificate, err);
      throw new RetryLater(
        errorMessage(err),
        err instanceof StorePrerequisiteError ? err.retryAfterMs : undefined,
      );
    }
    await this.setFinalizers(
      certificate,
      finalizers.filter((f) => f !== FINALIZER),
    );
    this.deps.metrics.removeCertificate(certificate.metadata.namespace, certificate.metadata.name);
    return undefined;
  }

  /**
   * The CRD is being deleted: every Certificate goes, and no entry may go with them. Released
   * as under Retain: the entry keeps the Certificate's namespace/name (a Secret's annotation,
   * an Azure marker), so the same Certificate applied again after a reinstall adopts it.
   */
  private async releaseOnUninstall(certificate: Certificate): Promise<void> {
    const { namespace, name } = certificate.metadata;
    const ref = certificate.status?.store?.ref ?? this.deps.store.refFor(certificate);
    await this.deps.store.release(certificate);
    this.deps.log.info('store entry kept: the Certificate CRD is being deleted', {
      namespace,
      name,
      ref,
    });
    this.deps.events.emit(
      { apiVersion: API_VERSION, kind: 'Certificate', metadata: certificate.metadata },
      'Normal',
      Reason.StoreEntryKept,
      `the Certificate CRD is being deleted (an uninstall): the store entry ${ref} is kept, despite deletionPolicy Delete`,
    );
  }

  /** The entry stays because agreements use it: Ready, status.azure and an event say so. */
  private async reportInUse(certificate: Certificate, err: StorePrerequisiteError): Promise<void> {
    const { namespace, name } = certificate.metadata;
    const uses = err instanceof CertificateInUseError ? err.uses : undefined;
    const status = inUseStatus(
      certificate,
      err.reason as Reason,
      err.message,
      uses,
      this.deps.now(),
    );
    this.deps.log.info('store entry kept: in use', { namespace, name, reason: err.reason });
    this.deps.metrics.setCertificateInUse(namespace, name, status.azure?.usedByCount);
    if (sameStatus(certificate.status, status)) return;
    try {
      await this.deps.client.patch(
        resourcePath(CertificateResource, { namespace, name, subresource: 'status' }),
        {
          metadata: { resourceVersion: certificate.metadata.resourceVersion },
          status: statusPatch(certificate.status, status),
        },
      );
    } catch (patchErr) {
      if (!isNotFound(patchErr)) throw patchErr;
      return;
    }
    const was = findCondition(certificate.status?.conditions, ConditionType.Ready);
    if (was?.reason !== err.reason || was.message !== err.message)
      this.deps.events.emit(
        { apiVersion: API_VERSION, kind: 'Certificate', metadata: certificate.metadata },
        'Warning',
        err.reason,
        err.message,
      );
  }

  /** Says on the Certificate (a condition, and an event when it changes) why it still waits. */
  private async reportNotRemoved(certificate: Certificate, err: unknown): Promise<void> {
    const { namespace, name } = certificate.metadata;
    const status = notRemovedStatus(
      certificate,
      `the store entry ${certificate.status?.store?.ref ?? this.deps.store.refFor(certificate)} was not removed, so the finalizer ${FINALIZER} stays (retried with backoff): ${errorMessage(err)}`,
      this.deps.now(),
    );
    this.deps.log.warn('store entry not removed', { namespace, name, error: errorMessage(err) });
    if (sameStatus(certificate.status, status)) return;
    try {
      await this.deps.client.patch(
        resourcePath(CertificateResource, { namespace, name, subresource: 'status' }),
        {
          metadata: { resourceVersion: certificate.metadata.resourceVersion },
          status: statusPatch(certificate.status, status),
        },
      );
    } catch (patchErr) {
      if (!isNotFound(patchErr)) throw patchErr;
      return;
    }
    const reconciling = findCondition(status.conditions, ConditionType.Reconciling);
    this.deps.events.emit(
      { apiVersion: API_VERSION, kind: 'Certificate', metadata: certificate.metadata },
      'Warning',
      Reason.StoreEntryNotRemoved,
      reconciling?.message ?? '',
    );
  }

  /** Sets metadata.finalizers with optimistic concurrency; undefined when the object is gone. */
  private async setFinalizers(
    certificate: Certificate,
    finalizers: string[],
  ): Promise<Certificate | undefined> {
    const { namespace, name, resourceVersion } = certificate.metadata;
    try {
      return await this.deps.client.patch<Certificate>(
        resourcePath(CertificateResource, { namespace, name }),
        {
          metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion },
        },
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
