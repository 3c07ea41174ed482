// The rows of API.md's checks table that need no vault, as one pure chain over gathered facts:
// account, quota, source, certificate, vault configuration. First failure wins.
import { Reason } from '../../api/reasons.ts';
import { findCondition } from '../../api/conditions.ts';
import type { Certificate, IntegrationAccount } from '../../api/types.ts';
import {
  expiryStatus,
  firstFailure,
  verifyCertificateSource,
  type Check,
  type CheckFailure,
  type CertificateVerdict,
  type ExpiryStatus,
} from '../../certificates/checks.ts';
import { parseGoDuration } from '../../certificates/duration.ts';
import { quotaSku } from './source-data.ts';
import type { CertificateInfo } from '../../certificates/inspect.ts';
import type { IdentityPolicy } from '../../identity/policy.ts';
import { vaultConnection } from '../../vaults/connection.ts';
import type { VaultConnection } from '../../vaults/verifier.ts';

/** What certificate.keyVault resolved to: the version read and the key that belongs to it. */
export interface KeyVaultSourceVersion {
  vault: string;
  name: string;
  version: string;
  key: { name: string; version: string } | undefined;
}

export type SourceState =
  | { found: true; data: string | Uint8Array; keyVault?: KeyVaultSourceVersion | undefined }
  | {
      found: false;
      message: string;
      /** Default CertificateSourceNotFound, waiting for the object to appear. */
      reason?: Reason | undefined;
      terminal?: boolean | undefined;
      retryAfterMs?: number | undefined;
    };

export interface CertificateFacts {
  certificate: Certificate;
  account: IntegrationAccount | undefined;
  /** Position among the account's certificates (oldest first) and the sku quota. */
  quota: { rank: number; quota: number };
  source: SourceState;
  now: Date;
  allowedVaultHosts: readonly string[];
  /** --azure-identity-policy (none: every method allowed). */
  identityPolicy?: IdentityPolicy | undefined;
}

export type FailedCondition = 'Ready' | 'CertificateValid' | 'KeyVaultAccessGranted';

export interface Failure extends CheckFailure {
  condition: FailedCondition;
  /** Waits for an object to appear or become Ready: a watch brings it back, no retry needed. */
  waiting?: boolean;
}

export interface Evaluation {
  failure: Failure | undefined;
  verdict: CertificateVerdict | undefined;
  info: CertificateInfo | undefined;
  expiry: ExpiryStatus | undefined;
  vault: VaultConnection | undefined;
  /** The source that was evaluated (certificate.keyVault: which version). */
  source?: SourceState | undefined;
}

const DEFAULT_EXPIRY_WARNING_MS = 720 * 3_600_000;

interface Context extends CertificateFacts {
  verdict: CertificateVerdict | undefined;
}

const on =
  (condition: FailedCondition, check: Check<Context>): Check<Context> =>
  (ctx) => {
    const failure = check(ctx);
    return failure && { ...failure, condition };
  };

const accountExists = on('Ready', ({ account, certificate }) =>
  account
    ? undefined
    : {
        reason: Reason.IntegrationAccountNotFound,
        message: `IntegrationAccount ${certificate.spec.integrationAccount.name} does not exist in namespace ${certificate.metadata.namespace}; waiting for it`,
        terminal: false,
        waiting: true,
      },
);

// The account's Ready condition alone: while the account controller catches up with an edit
// of its spec, its certificates keep their verdict instead of flapping to NotReady and back.
// A vault the account cannot use does not make it NotReady: only the certificates using that
// vault fail (vaultUsable, below). The message carries the account's own reason.
const accountReady = on('Ready', ({ account }) => {
  const ready = findCondition(account?.status?.conditions, 'Ready');
  if (ready?.status === 'True') return undefined;
  // Applied together with its account: the account controller has not written its first
  // status yet. Nothing is wrong, so this waits without a Warning (reason Progressing).
  if (!ready)
    return {
      reason: Reason.Progressing,
      message: `IntegrationAccount ${account?.metadata.name ?? ''} has no status yet; waiting for its first status`,
      terminal: false,
      waiting: true,
    };
  // The azure store's own account cannot be used: the certificate says that reason itself.
  if (AZURE_ACCOUNT_REASONS.has(ready.reason))
    return {
      reason: ready.reason as Reason,
      message: `IntegrationAccount ${account?.metadata.name ?? ''}: ${ready.message}; waiting for it`,
      // Only a change of the account's spec (or of the operator's policy) lifts it: Stalled.
      terminal: ready.reason === Reason.IdentityNotAllowed,
      waiting: true,
    };
  const why = `${ready.reason}: ${ready.message}`;
  return {
    reason: Reason.IntegrationAccountNotReady,
    message: `IntegrationAccount ${account?.metadata.name ?? ''} is not Ready (${why}); waiting for it`,
    terminal: false,
    waiting: true,
  };
});

// A certificate that can never be stored takes no place (neverStorable): it reports its own
// reason, below, rather than QuotaExceeded.
const AZURE_ACCOUNT_REASONS: ReadonlySet<string> = new Set([
  Reason.AzureAccountNotFound,
  Reason.AzureAuthorizationFailed,
  Reason.AuthenticationFailed,
  Reason.IdentityNotAllowed,
  Reason.ServiceAccountNotFound,
  Reason.ServiceAccountNotAnnotated,
]);

const underQuota = on('Ready', (ctx) => {
  const { quota, account } = ctx;
  return quota.rank < quota.quota || cannotBeStored(ctx)
    ? undefined
    : {
        reason: Reason.QuotaExceeded,
        message: `IntegrationAccount ${account?.metadata.name ?? ''} (sku ${quotaSku(account)}${account?.spec.store?.azure ? ' in Azure' : ''}) holds at most ${quota.quota} certificates and this is number ${quota.rank + 1} (certificates already in the store first, then by creation time); delete a certificate or choose a larger sku`,
        terminal: true,
      };
});

/** A terminal failure of the certificate itself or of its vault configuration. */
function cannotBeStored(ctx: Context): boolean {
  if (ctx.verdict && !ctx.verdict.ok && ctx.verdict.failure.terminal) return true;
  const vault = vaultOf(ctx);
  return vault !== undefined && !vault.ok;
}

// A Key Vault certificate's problems keep their own reasons: a vault configuration error
// (terminal) on KeyVaultAccessGranted, a vault that does not answer retried with backoff, and a
// certificate the vault does not have waits for the next poll.
const sourceFound: Check<Context> = ({ source }) => {
  if (source.found) return undefined;
  const reason = source.reason ?? Reason.CertificateSourceNotFound;
  const waiting = reason === Reason.CertificateSourceNotFound;
  return {
    reason,
    message: source.message,
    terminal: !waiting && (source.terminal ?? false),
    ...(waiting ? { waiting: true } : {}),
    condition: waiting ? 'CertificateValid' : 'KeyVaultAccessGranted',
  } satisfies Failure;
};

// A failure that time fixes (not yet valid) waits for it: the requeue at notBefore, no backoff.
const certificateValid = on('CertificateValid', ({ verdict }) =>
  verdict && !verdict.ok
    ? { ...verdict.failure, ...(verdict.failure.terminal ? {} : { waiting: true }) }
    : undefined,
);

export function vaultOf(
  facts: Pick<CertificateFacts, 'certificate' | 'account' | 'allowedVaultHosts' | 'identityPolicy'>,
): { ok: true; vault: VaultConnection } | { ok: false; failure: CheckFailure } | undefined {
  const { certificate, account } = facts;
  // The key's vault: spec.key's, else (certificate.keyVault) the certificate's own.
  const keyVault = certificate.spec.key?.vault ?? certificate.spec.certificate.keyVault?.vault;
  if (certificate.spec.type !== 'Private' || !keyVault) return undefined;
  const field = certificate.spec.key ? 'key.vault' : 'certificate.keyVault.vault';
  const vault = account?.spec.keyVaults?.find((v) => v.name === keyVault);
  if (!vault) {
    const names = account?.spec.keyVaults?.map((v) => v.name).join(', ') || 'none';
    return {
      ok: false,
      failure: {
        reason: Reason.VaultNotConfigured,
        message: `${field} ${keyVault} is not a vault of IntegrationAccount ${certificate.spec.integrationAccount.name} (its spec.keyVaults: ${names})`,
        terminal: true,
      },
    };
  }
  const connection = vaultConnection(
    vault,
    certificate.metadata.namespace,
    facts.allowedVaultHosts,
    facts.identityPolicy,
  );
  if (!connection.ok) {
    const { reason, message } = connection;
    return {
      ok: false,
      failure: { reason, message: `key vault ${vault.name}: ${message}`, terminal: true },
    };
  }
  return connection;
}

const vaultUsable = on('KeyVaultAccessGranted', (ctx) => {
  const v = vaultOf(ctx);
  return v && !v.ok ? v.failure : undefined;
});

const rows: readonly Check<Context>[] = [
  accountExists,
  accountReady,
  underQuota,
  sourceFound,
  certificateValid,
  vaultUsable,
];

export function expiryWarningMs(certificate: Certificate): number {
  return parseGoDuration(certificate.spec.expiryWarning ?? '') ?? DEFAULT_EXPIRY_WARNING_MS;
}

export function evaluateCertificate(facts: CertificateFacts): Evaluation {
  const verdict = facts.source.found
    ? verifyCertificateSource(facts.source.data, facts.certificate.spec.type, facts.now)
    : undefined;
  const failure = firstFailure(rows, { ...facts, verdict }) as Failure | undefined;
  const info = verdict?.certificate;
  const vault = vaultOf(facts);
  return {
    failure,
    verdict,
    info,
    expiry: info && expiryStatus(info, facts.now, expiryWarningMs(facts.certificate)),
    vault: vault?.ok ? vault.vault : undefined,
    source: facts.source,
  };
}
