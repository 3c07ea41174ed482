// Each account names its store (spec.store): the kubernetes store (Secrets) unless it says
// azure. Certificates are written to the store of their account through this one Store; an
// entry already written is deleted, released or moved where it *is*: status.store.ref (a Secret
// name, or the ARM ID of an Azure certificate), whatever the account says now.
import type { Certificate, IntegrationAccount } from '../api/types.ts';
import { errorMessage } from '../operator/log.ts';
import { Reason } from '../api/reasons.ts';
import { sameArmId } from './azure/arm-ids.ts';
import type { AzureStore } from './azure/azure-store.ts';
import {
  IGNORE_USAGE_ANNOTATION,
  StorePrerequisiteError,
  type AzureEntryAccess,
  type KeptEntry,
  type Store,
  type StoreEntry,
  type SyncResult,
} from './store.ts';

/** An Azure entry's ref is its ARM ID; a Secret's is its name (which has no `/`). */
export const isAzureRef = (ref: string): boolean => ref.startsWith('/');

const sameRef = (a: string, b: string): boolean =>
  isAzureRef(a) || isAzureRef(b) ? sameArmId(a, b) : a === b;

/** Where the entry was written, as the certificate's status recorded it. */
const recordedRef = (certificate: Certificate): string | undefined =>
  certificate.status?.store?.ref || undefined;

/** Earlier entries kept after a move because agreements use them (status.store.kept). */
const keptEntries = (certificate: Certificate) => certificate.status?.store?.kept ?? [];

/** status.store.kept holds at most this many (the CRD's maxItems). */
export const MAX_KEPT_ENTRIES = 10;

/** The wait of in-use protection (not a failure): the entry stays, rechecked. */
const isInUseWait = (err: unknown): err is StorePrerequisiteError =>
  err instanceof StorePrerequisiteError &&
  (err.reason === Reason.CertificateInUse || err.reason === Reason.CertificateUsageUnknown);

export class StoreRouter implements Store {
  readonly type = 'router';
  private readonly kubernetes: Store;
  private readonly azure: AzureStore;
  private readonly accountOf: (certificate: Certificate) => IntegrationAccount | undefined;

  constructor(
    kubernetes: Store,
    azure: AzureStore,
    accountOf: (certificate: Certificate) => IntegrationAccount | undefined,
  ) {
    this.kubernetes = kubernetes;
    this.azure = azure;
    this.accountOf = accountOf;
  }

  private azureAccount(certificate: Certificate): IntegrationAccount | undefined {
    const account = this.accountOf(certificate);
    return account?.spec.store?.azure ? account : undefined;
  }

  /** Where the certificate is written now: the store of its account. */
  refFor(certificate: Certificate): string {
    const account = this.azureAccount(certificate);
    return account ? this.azure.refFor(account, certificate) : this.kubernetes.refFor(certificate);
  }

  /**
   * Azure: Delete removes the entry in Azure, which no garbage collector reaches; Retain has
   * nothing to do. Asked for the store written now and for the one the status says holds the
   * entry (the account may have been deleted or switched since).
   */
  needsFinalizer(certificate: Certificate): boolean {
    const target = this.accountOf(certificate) ? this.refFor(certificate) : undefined;
    const refs = [
      target,
      recordedRef(certificate),
      ...keptEntries(certificate).map((k) => k.ref),
    ].filter((r): r is string => r !== undefined);
    if (!refs.length) return this.kubernetes.needsFinalizer(certificate);
    return refs.some((ref) =>
      isAzureRef(ref)
        ? certificate.spec.deletionPolicy !== 'Retain'
        : this.kubernetes.needsFinalizer(certificate),
    );
  }

  /**
   * Writes the entry, then lets go of the previous one when it was written elsewhere. Under
   * Delete, a previous Azure entry that agreements use is kept (and rechecked with each sync)
   * instead: the new entry is the Certificate's all the same.
   */
  async sync(entry: StoreEntry): Promise<SyncResult> {
    const { certificate } = entry;
    const account = this.azureAccount(certificate);
    await this.refuseMoveBeyondKept(certificate);
    const result = account
      ? await this.azure.sync(account, entry)
      : await this.kubernetes.sync(entry);
    const location = result.location ?? `Secret ${result.ref}`;
    const previous = recordedRef(certificate);
    const earlier: { ref: string; azure?: AzureEntryAccess | undefined }[] = [];
    if (previous && !sameRef(previous, result.ref)) {
      if (certificate.spec.deletionPolicy === 'Retain') {
        await this.leave(location, previous, () => this.releaseAt(certificate, previous));
      } else
        earlier.push({ ref: previous, azure: this.accessForOrUndefined(certificate, previous) });
    }
    for (const k of keptEntries(certificate))
      if (
        certificate.spec.deletionPolicy !== 'Retain' &&
        !sameRef(k.ref, result.ref) &&
        !earlier.some((e) => sameRef(e.ref, k.ref))
      )
        earlier.push({ ref: k.ref, azure: k.azure });
    const kept: KeptEntry[] = [];
    let keptRecheckMs: number | undefined;
    for (const e of earlier) {
      try {
        await this.leave(location, e.ref, () =>
          isAzureRef(e.ref)
            ? this.azure.remove(
                e.ref,
                e.azure ?? this.accessFor(certificate, e.ref),
                certificate,
                true,
              )
            : this.kubernetes.remove(certificate),
        );
      } catch (err) {
        if (!isInUseWait(err)) throw err;
        kept.push({ ref: e.ref, azure: e.azure, reason: err.reason, message: err.message });
        if (err.retryAfterMs !== undefined)
          keptRecheckMs = Math.min(keptRecheckMs ?? err.retryAfterMs, err.retryAfterMs);
      }
    }
    return kept.length ? { ...result, kept, keptRecheckMs } : result;
  }

  /**
   * A move under Delete may add the previous entry to status.store.kept; with the list full,
   * the move waits (before any write) until a kept entry is released.
   */
  private async refuseMoveBeyondKept(certificate: Certificate): Promise<void> {
    const previous = recordedRef(certificate);
    const kept = keptEntries(certificate);
    if (
      certificate.spec.deletionPolicy === 'Retain' ||
      certificate.metadata.annotations?.[IGNORE_USAGE_ANNOTATION] === 'true' ||
      kept.length < MAX_KEPT_ENTRIES ||
      !previous ||
      sameRef(previous, this.refFor(certificate)) ||
      kept.some((k) => sameRef(k.ref, this.refFor(certificate)))
    )
      return;
    // The kept entries are looked at first: one that no agreement uses any more makes room.
    let stillKept = 0;
    for (const k of kept)
      try {
        await this.azure.remove(
          k.ref,
          k.azure ?? this.accessFor(certificate, k.ref),
          certificate,
          true,
        );
      } catch {
        stillKept++;
      }
    if (stillKept < MAX_KEPT_ENTRIES) return;
    throw new StorePrerequisiteError(
      Reason.CertificateInUse,
      `not moved to ${this.refFor(certificate)}: ${kept.length} earlier entries of this Certificate are already kept because agreements use them (status.store.kept: ${kept.map((k) => k.ref.split('/').pop()).join(', ')}); change those agreements first, or set the annotation ${IGNORE_USAGE_ANNOTATION}=true`,
      false,
      60_000,
    );
  }

  /** Lets go of an earlier entry; a failure says the new one was written all the same. */
  private async leave(location: string, ref: string, go: () => Promise<void>): Promise<void> {
    try {
      await go();
    } catch (err) {
      if (isInUseWait(err)) throw err;
      throw new StorePrerequisiteError(
        err instanceof StorePrerequisiteError ? err.reason : Reason.StoreWriteFailed,
        `the certificate was written to ${location}, but its previous entry ${ref} could not be removed (retried): ${errorMessage(err)}`,
        false,
        err instanceof StorePrerequisiteError ? err.retryAfterMs : undefined,
      );
    }
  }

  applyDeletionPolicy(certificate: Certificate): Promise<void> {
    // Azure entries have no owner to let go of; the kubernetes store asks only its cache.
    return this.kubernetes.applyDeletionPolicy(certificate);
  }

  /**
   * The entry the status names, and the one the account names now if that differs (written
   * right before a crash, ahead of the status that would have recorded it).
   */
  async remove(certificate: Certificate): Promise<void> {
    // The Certificate is deleted: an entry that agreements use stays until they do not.
    const recorded = recordedRef(certificate);
    if (recorded) await this.removeAt(certificate, recorded, true);
    const target = this.refFor(certificate);
    if (!recorded || !sameRef(recorded, target)) await this.removeAt(certificate, target, true);
    for (const k of keptEntries(certificate))
      if (!sameRef(k.ref, target) && !(recorded && sameRef(k.ref, recorded)))
        await this.azure.remove(
          k.ref,
          k.azure ?? this.accessFor(certificate, k.ref),
          certificate,
          true,
        );
  }

  forget(namespace: string, name: string): void {
    this.kubernetes.forget(namespace, name);
  }

  /** Retain: an Azure certificate has no owner to let go of; it stays with its marker. */
  async release(certificate: Certificate): Promise<void> {
    const recorded = recordedRef(certificate);
    const refs = [recorded ?? this.refFor(certificate), this.refFor(certificate)];
    if (refs.some((ref) => !isAzureRef(ref))) await this.kubernetes.release(certificate);
  }

  private async releaseAt(certificate: Certificate, ref: string): Promise<void> {
    if (!isAzureRef(ref)) await this.kubernetes.release(certificate);
  }

  /** `checkUsage`: in-use protection (a deleted Certificate). */
  private async removeAt(certificate: Certificate, ref: string, checkUsage = false): Promise<void> {
    if (!isAzureRef(ref)) return this.kubernetes.remove(certificate);
    await this.azure.remove(ref, this.accessFor(certificate, ref), certificate, checkUsage);
  }

  /**
   * How to reach an Azure entry: as recorded when it was written; for an entry written before
   * status recorded that, as the account says now (when it still names an azure store).
   */
  /** How the previous entry is reached, recorded with it (undefined: asked again later). */
  private accessForOrUndefined(
    certificate: Certificate,
    ref: string,
  ): AzureEntryAccess | undefined {
    if (!isAzureRef(ref)) return undefined;
    try {
      return this.accessFor(certificate, ref);
    } catch {
      return undefined;
    }
  }

  private accessFor(certificate: Certificate, ref: string): AzureEntryAccess {
    const recorded = certificate.status?.store;
    if (recorded?.azure?.auth && recorded.ref && sameRef(recorded.ref, ref)) return recorded.azure;
    const account = this.azureAccount(certificate);
    if (account) return this.azure.accessOf(account);
    throw new StorePrerequisiteError(
      Reason.StoreEntryNotRemoved,
      `the Azure certificate ${ref} cannot be reached: IntegrationAccount ${certificate.spec.integrationAccount.name} no longer names an azure store and the status records no credentials for it. Re-create the IntegrationAccount with its azure store, or delete the Azure certificate yourself and remove the finalizer`,
      false,
    );
  }
}
