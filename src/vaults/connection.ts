// From an account's spec.keyVaults entry to a connection the verifiers can use, or the reason
// it cannot be used. One answer for the account (status.keyVaults) and for its certificates.
import { Reason } from '../api/reasons.ts';
import type { IntegrationAccountSpec } from '../api/types.ts';
import { checkIdentityAllowed, type IdentityPolicy } from '../identity/policy.ts';
import { checkVaultHost } from './hosts.ts';
import type { VaultConnection } from './verifier.ts';

export type KeyVaultSpec = NonNullable<IntegrationAccountSpec['keyVaults']>[number];

export type ConnectionVerdict =
  { ok: true; vault: VaultConnection } | { ok: false; reason: Reason; message: string };

export function vaultConnection(
  spec: KeyVaultSpec,
  namespace: string,
  allowedVaultHosts: readonly string[],
  identityPolicy?: IdentityPolicy,
): ConnectionVerdict {
  if (spec.kubernetes) {
    return {
      ok: true,
      vault: {
        name: spec.name,
        kind: 'kubernetes',
        vaultUrl: `kubernetes://${namespace}`,
        extraHost: false,
      },
    };
  }
  const url = spec.azure?.vaultUrl ?? '';
  const host = checkVaultHost(url, allowedVaultHosts);
  if (!host.allowed)
    return { ok: false, reason: Reason.VaultHostNotAllowed, message: host.message };
  const identity = checkIdentityAllowed(spec.azure?.auth, namespace, identityPolicy);
  if (!identity.ok) return identity;
  return {
    ok: true,
    vault: {
      name: spec.name,
      kind: 'azure',
      vaultUrl: url,
      extraHost: host.extraHost,
      azureAuth: spec.azure?.auth,
    },
  };
}
