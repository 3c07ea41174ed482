// Verifying that the key of a Private certificate can really be used: the seam between the
// certificate controller and the vaults. Implementations probe the vault for real.
import type { Reason } from '../api/reasons.ts';
import type { CertificateInfo } from '../certificates/inspect.ts';
import type { AzureAuth } from './azure/credentials.ts';

export interface VaultConnection {
  name: string;
  kind: 'azure' | 'kubernetes';
  /** Azure: the vault URL; kubernetes: a kubernetes:// URL naming the namespace. */
  vaultUrl: string;
  /** The host was allowed by --allowed-vault-hosts (an emulator), not by its Azure suffix. */
  extraHost: boolean;
  /** Azure: how the operator authenticates (the account's spec.keyVaults[].azure.auth). */
  azureAuth?: AzureAuth | undefined;
}

export interface KeyVerificationRequest {
  namespace: string;
  vault: VaultConnection;
  key: { name: string; version?: string | undefined };
  certificate: CertificateInfo;
}

export type KeyVerdict =
  | {
      ok: true;
      vaultUrl: string;
      name: string;
      version: string;
      grants: string[];
      verifiedAt: Date;
    }
  | {
      ok: false;
      reason: Reason;
      message: string;
      terminal: boolean;
      retryAfterMs?: number | undefined;
    };

export interface KeyVerifier {
  verify(request: KeyVerificationRequest): Promise<KeyVerdict>;
}

/** Until a vault kind has a verifier, its Private certificates say so instead of pretending. */
export const unimplementedVerifier: KeyVerifier = {
  verify: ({ vault }) =>
    Promise.resolve({
      ok: false,
      reason: 'VaultVerificationNotImplemented',
      message: `verifying key grants in ${vault.kind} vault ${vault.name} is not implemented in this version of the operator; the certificate cannot become Ready`,
      terminal: true,
    }),
};
