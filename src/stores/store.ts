// Where Ready certificates go. The kubernetes store is the first; an Azure integration-account
// store implements the same interface.
import type { Certificate } from '../api/types.ts';

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
  /** What was found changed by someone else in an entry we wrote, and put back. */
  restored?: string[] | undefined;
}

/** The store holds an object of that name that is not ours: never overwritten. */
export class StoreConflictError extends Error {}

export interface Store {
  readonly type: string;
  refFor(certificate: Certificate): string;
  sync(entry: StoreEntry): Promise<SyncResult>;
  /** deletionPolicy Delete: remove what we stored (only if it is ours). */
  remove(certificate: Certificate): Promise<void>;
  /** deletionPolicy Retain: keep it, but let go of it (no longer marked as ours). */
  release(certificate: Certificate): Promise<void>;
}
