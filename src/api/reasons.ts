// Condition types and reasons: the names of API.md that users, kubectl wait, Flux and Argo CD
// rely on. Change none of them without keeping the old one working.

export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  CertificateValid: 'CertificateValid',
  KeyVaultAccessGranted: 'KeyVaultAccessGranted',
  Synced: 'Synced',
  Expiring: 'Expiring',
  /** Source certificate.keyVault: whether the latest enabled version is the one in the store. */
  RenewalReady: 'RenewalReady',
  /** Azure store: an earlier entry (before a move) is kept because agreements use it. */
  PreviousEntryInUse: 'PreviousEntryInUse',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  // Ready
  Ready: 'Ready',
  IntegrationAccountNotFound: 'IntegrationAccountNotFound',
  IntegrationAccountNotReady: 'IntegrationAccountNotReady',
  QuotaExceeded: 'QuotaExceeded',
  // CertificateValid
  Valid: 'Valid',
  CertificateSourceNotFound: 'CertificateSourceNotFound',
  InvalidCertificate: 'InvalidCertificate',
  PrivateKeyInCertificate: 'PrivateKeyInCertificate',
  CertificateNotYetValid: 'CertificateNotYetValid',
  CertificateExpired: 'CertificateExpired',
  UnsupportedKeyAlgorithm: 'UnsupportedKeyAlgorithm',
  MissingDataEncipherment: 'MissingDataEncipherment',
  // KeyVaultAccessGranted
  AccessGranted: 'AccessGranted',
  VaultNotConfigured: 'VaultNotConfigured',
  VaultHostNotAllowed: 'VaultHostNotAllowed',
  KeyNotFound: 'KeyNotFound',
  KeyDisabled: 'KeyDisabled',
  KeyExpired: 'KeyExpired',
  KeyMismatch: 'KeyMismatch',
  /** The key's own permitted operations (key_ops) leave out decrypt or sign. */
  KeyOperationNotPermitted: 'KeyOperationNotPermitted',
  AccessDenied: 'AccessDenied',
  VaultUnavailable: 'VaultUnavailable',
  AuthenticationFailed: 'AuthenticationFailed',
  // KeyVaultAccessGranted, Synced and an account's Ready: whose Azure identity (API.md)
  /** --azure-identity-policy=serviceAccount refuses the operator's own identity here. */
  IdentityNotAllowed: 'IdentityNotAllowed',
  /** workloadIdentity.serviceAccountName names no ServiceAccount of the namespace. */
  ServiceAccountNotFound: 'ServiceAccountNotFound',
  /** The ServiceAccount has no azure.workload.identity/client-id (or tenant-id) and the spec none. */
  ServiceAccountNotAnnotated: 'ServiceAccountNotAnnotated',
  // Synced
  Synced: 'Synced',
  StoreWriteFailed: 'StoreWriteFailed',
  StoreConflict: 'StoreConflict',
  /** Event only: the store entry was changed by someone else and put back. */
  StoreRestored: 'StoreRestored',
  /** Event only: an entry this Certificate did not write was taken over (spec.adoption). */
  Adopted: 'Adopted',
  /** Event only: an entry nobody marked was replaced (spec.adoption: Always). */
  Overwritten: 'Overwritten',
  /** Event only: the Certificate CRD is being deleted (an uninstall), so a Delete entry stays. */
  StoreEntryKept: 'StoreEntryKept',
  // Synced: the azure store's prerequisites (API.md, "The azure store")
  AzureAccountNotFound: 'AzureAccountNotFound',
  AzureAuthorizationFailed: 'AzureAuthorizationFailed',
  LogicAppsKeyAccessMissing: 'LogicAppsKeyAccessMissing',
  LogicAppsAccessUnverifiable: 'LogicAppsAccessUnverifiable',
  KeyNotListedByIntegrationAccount: 'KeyNotListedByIntegrationAccount',
  AzureNameTooLong: 'AzureNameTooLong',
  /** A store entry to delete (the Certificate's, or the one it moved from) cannot be removed yet. */
  StoreEntryNotRemoved: 'StoreEntryNotRemoved',
  /** A Delete Certificate's Azure entry is kept: agreements of the account use it. */
  CertificateInUse: 'CertificateInUse',
  /** A Delete Certificate's Azure entry waits: the account's agreements cannot be read. */
  CertificateUsageUnknown: 'CertificateUsageUnknown',
  // Expiring
  ExpiresSoon: 'ExpiresSoon',
  NotExpiring: 'NotExpiring',
  // RenewalReady (source certificate.keyVault); False carries the failed check's own reason
  LatestVersionSynced: 'LatestVersionSynced',
  /** Event only: a new Key Vault certificate version replaced the one in the store. */
  Renewed: 'Renewed',
  /** Event only: a new Key Vault certificate version failed a check; the last good one stays. */
  RenewalRejected: 'RenewalRejected',
  /** RenewalReady=False and an event: a valid new version waits for spec.rollover.delay. */
  RolloverScheduled: 'RolloverScheduled',
  // Reconciling / Stalled / account
  Progressing: 'Progressing',
  // an account's status.keyVaults entry (else the KeyVaultAccessGranted reason of the failure)
  Reachable: 'Reachable',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
