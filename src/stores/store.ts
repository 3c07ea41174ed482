// Where Ready certificates go: the kubernetes store (Secrets) or the azure store (an Azure
// Logic Apps integration account), chosen per account by stores/router.ts.
import type { Certificate, CertificateStatus } from '../api/types.ts';
import { Reason } from '../api/reasons.ts';
import type { AgreementUse } from './azure/agreements.ts';

/**
 * Azure store: the cloud and auth an entry was written with (status.store.azure, never a
 * secret). With status.store.ref it says how to reach the entry after the account changed.
 */
export type AzureEntryAccess = NonNullable<NonNullable<CertificateStatus['store']>['azure']>;

/** What a store keeps for one certificate: never key material. */
export interface StoreEntry {
  certificate: Certificate;
  pem: string;
  metadata: Record<string, string>;
  key?: { vault: string; vaultUrl: string; name: string; version: string } | undefined;
}

export interface SyncResult {
  ref: string;
  /** False when the store already held exactly this entry (no write). */
  written: boolean;
  /**
   * Kubernetes store: the Secret's resourceVersion now. Recorded in status after a write, it
   * lets a restarted operator confirm the entry from the metadata cache without reading it.
   */
  version?: string | undefined;
  /** What was found changed by someone else in an entry we wrote, and put back. */
  restored?: string[] | undefined;
  /** An entry this Certificate had not written was taken (spec.adoption): the event to record. */
  taken?: { event: 'Adopted' | 'Overwritten'; message: string } | undefined;
  /** How status and events name where it is, e.g. `Secret x` (default) or an Azure resource. */
  location?: string;
  /** The store is outside the cluster (no watch): come back at the recheck interval. */
  recheck?: boolean;
  /** Azure store: how the entry was reached, recorded in status.store.azure. */
  azure?: AzureEntryAccess;
  /**
   * Azure store: the entry is this Certificate's by adoption without a write (it carries no
   * marker of this uid), recorded in status.store.adopted.
   */
  adopted?: AzureAdoptionRecord | undefined;
  /**
   * Azure store: the agreements of the account that use the certificate (status.azure), or
   * why they could not be read.
   */
  usage?: { uses: readonly AgreementUse[] } | { unknown: string } | undefined;
  /**
   * Azure store: earlier entries (before a move) kept because agreements use them, or their
   * use cannot be read (status.store.kept, condition PreviousEntryInUse).
   */
  kept?: KeptEntry[] | undefined;
  /** With `kept`: when to look at them again (agreements change without a watch). */
  keptRecheckMs?: number | undefined;
}

/** status.store.kept: an earlier entry kept, and why (the reason and message of the wait). */
export interface KeptEntry {
  ref: string;
  azure?: AzureEntryAccess | undefined;
  reason: string;
  message: string;
}

/** status.store.adopted: what an entry adopted without a write held then. */
export type AzureAdoptionRecord = NonNullable<NonNullable<CertificateStatus['store']>['adopted']>;

/** The store holds an object of that name that is not ours: never overwritten. */
export class StoreConflictError extends Error {}

/** A prerequisite of the store failed (its reason is in api/reasons.ts); rechecked later. */
export class StorePrerequisiteError extends Error {
  readonly reason: string;
  readonly terminal: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, message: string, terminal: boolean, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.terminal = terminal;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A Delete entry that agreements still use: kept, and the finalizer with it (rechecked). */
export class CertificateInUseError extends StorePrerequisiteError {
  readonly uses: readonly AgreementUse[];
  constructor(message: string, uses: readonly AgreementUse[], retryAfterMs: number) {
    super(Reason.CertificateInUse, message, false, retryAfterMs);
    this.uses = uses;
  }
}

/** metadata.annotations: `true` deletes an entry in Azure whatever agreements use it. */
export const IGNORE_USAGE_ANNOTATION = 'integration.b2b.dev/ignore-usage';

export interface Store {
  readonly type: string;
  refFor(certificate: Certificate): string;
  /**
   * Whether deleting the certificate needs the operator (a finalizer): what the garbage
   * collector cannot do. Asked right before a write, so the answer matches the store written.
   */
  needsFinalizer(certificate: Certificate): boolean;
  sync(entry: StoreEntry): Promise<SyncResult>;
  /**
   * A check fails, so nothing is written and the last good version stays: its ownership
   * follows deletionPolicy all the same (under Retain no garbage collector may take it).
   */
  applyDeletionPolicy(certificate: Certificate): Promise<void>;
  /** deletionPolicy Delete: remove what we stored (only if it is ours). */
  remove(certificate: Certificate): Promise<void>;
  /** deletionPolicy Retain: keep it, but let go of it (no longer marked as ours). */
  release(certificate: Certificate): Promise<void>;
  /** The certificate is gone (deleted without a finalizer): drop what is remembered of it. */
  forget(namespace: string, name: string): void;
}
