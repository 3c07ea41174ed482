// The source certificate.keyVault: which vault of the account, and what the vault holds for the
// certificate (its CER, and the key version that belongs to that certificate version).
import { Reason } from '../../api/reasons.ts';
import type { Certificate, IntegrationAccount } from '../../api/types.ts';
import type { IdentityPolicy } from '../../identity/policy.ts';
import type { CertificateReader } from '../../vaults/certificate-source.ts';
import { vaultConnection } from '../../vaults/connection.ts';
import type { SourceState } from './evaluate.ts';

export interface KeyVaultSourceFacts {
  certificate: Certificate;
  account: IntegrationAccount | undefined;
  allowedVaultHosts: readonly string[];
  identityPolicy?: IdentityPolicy | undefined;
}

/** Following the latest enabled version (not pinned): renewals flow through. */
export const followsRenewals = (certificate: Certificate): boolean =>
  certificate.spec.certificate.keyVault !== undefined &&
  !certificate.spec.certificate.keyVault.version;

/**
 * Reads the Key Vault certificate of spec.certificate.keyVault: its pinned version, else
 * `version` (the last good one, when a newer one was rejected), else the latest enabled one.
 */
export async function readKeyVaultSource(
  reader: CertificateReader | undefined,
  facts: KeyVaultSourceFacts,
  version?: string,
): Promise<SourceState> {
  const { certificate, account } = facts;
  const source = certificate.spec.certificate.keyVault;
  if (!source) return { found: false, message: 'spec.certificate names no keyVault source' };
  // No account yet: the account checks come first and say so.
  if (!account) return { found: false, message: `waiting for the account` };
  const spec = account.spec.keyVaults?.find((v) => v.name === source.vault);
  if (!spec?.azure) {
    const names = account.spec.keyVaults
      ?.filter((v) => v.azure)
      .map((v) => v.name)
      .join(', ');
    return {
      found: false,
      reason: Reason.VaultNotConfigured,
      terminal: true,
      message: `certificate.keyVault.vault ${source.vault} is not ${spec ? 'an Azure vault' : 'a vault'} of IntegrationAccount ${account.metadata.name} (its Azure vaults: ${names || 'none'}); Key Vault certificates are read from Azure vaults only`,
    };
  }
  const connection = vaultConnection(
    spec,
    certificate.metadata.namespace,
    facts.allowedVaultHosts,
    facts.identityPolicy,
  );
  if (!connection.ok)
    return {
      found: false,
      reason: connection.reason,
      terminal: true,
      message: `key vault ${source.vault}: ${connection.message}`,
    };
  if (!reader)
    return {
      found: false,
      reason: Reason.VaultUnavailable,
      terminal: false,
      message: 'this operator reads no Key Vault certificates',
    };
  const read = await reader.read({
    namespace: certificate.metadata.namespace,
    vault: connection.vault,
    name: source.name,
    version: source.version || version,
  });
  if (!read.ok)
    return {
      found: false,
      reason: read.reason,
      terminal: read.terminal,
      message: read.message,
      retryAfterMs: read.retryAfterMs,
    };
  return {
    found: true,
    data: read.certificate.cer,
    keyVault: {
      vault: source.vault,
      name: source.name,
      version: read.certificate.version,
      key: read.certificate.key,
    },
  };
}
