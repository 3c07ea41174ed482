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
  /** The certificate's spec changed since its last verdict: a cached failure is not reused. */
  specChanged?: boolean | undefined;
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
      /** When the vault was asked (a cached verdict keeps its time). */
      checkedAt?: Date | undefined;
    };

export interface KeyVerifier {
  verify(request: KeyVerificationRequest): Promise<KeyVerdict>;
}

/** A failed verification; terminal unless said otherwise. */
export function vaultFailure(
  reason: Reason,
  message: string,
  terminal = true,
  retryAfterMs?: number,
): KeyVerdict {
  return {
    ok: false,
    reason,
    message,
    terminal,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** Routes each request to the verifier of its vault kind. */
export function verifierByKind(
  verifiers: Record<VaultConnection['kind'], KeyVerifier>,
): KeyVerifier {
  return { verify: (request) => verifiers[request.vault.kind].verify(request) };
}
