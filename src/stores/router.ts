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
  StorePrerequisiteError,
  type AzureEntryAccess,
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
    const refs = [target, recordedRef(certificate)].filter((r): r is string => r !== undefined);
    if (!refs.length) return this.kubernetes.needsFinalizer(certificate);
    return refs.some((ref) =>
      isAzureRef(ref)
        ? certificate.spec.deletionPolicy !== 'Retain'
        : this.kubernetes.needsFinalizer(certificate),
    );
  }

  /** Writes the entry, then lets go of the previous one when it was written elsewhere. */
  async sync(entry: StoreEntry): Promise<SyncResult> {
    const { certificate } = entry;
    const account = this.azureAccount(certificate);
    const result = account
      ? await this.azure.sync(account, entry)
      : await this.kubernetes.sync(entry);
    const previous = recordedRef(certificate);
    if (previous && !sameRef(previous, result.ref)) {
      const location = result.location ?? `Secret ${result.ref}`;
      try {
        if (certificate.spec.deletionPolicy === 'Retain')
          await this.releaseAt(certificate, previous);
        else await this.removeAt(certificate, previous);
      } catch (err) {
        throw new StorePrerequisiteError(
          err instanceof StorePrerequisiteError ? err.reason : Reason.StoreWriteFailed,
          `the certificate was written to ${location}, but its previous entry ${previous} could not be removed (retried): ${errorMessage(err)}`,
          false,
          err instanceof StorePrerequisiteError ? err.retryAfterMs : undefined,
        );
      }
    }
    return result;
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

  /** `checkUsage`: in-use protection (a deleted Certificate; moves are not checked yet). */
  private async removeAt(certificate: Certificate, ref: string, checkUsage = false): Promise<void> {
    if (!isAzureRef(ref)) return this.kubernetes.remove(certificate);
    await this.azure.remove(ref, this.accessFor(certificate, ref), certificate, checkUsage);
  }

  /**
   * How to reach an Azure entry: as recorded when it was written; for an entry written before
   * status recorded that, as the account says now (when it still names an azure store).
   */
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
