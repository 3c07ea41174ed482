// The Azure identity for one vault connection, from the account's spec: workload identity
// (the AKS webhook's environment, or a ServiceAccount of the account's namespace), managed
// identity, or a service principal whose secret is in a Secret. The authority follows the
// vault's cloud (public, China, US Gov). Every token request ends by a deadline (deadline.ts).
import { createHash } from 'node:crypto';
import {
  AzureAuthorityHosts,
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import {
  IdentityError,
  type ServiceAccountIdentities,
  type ServiceAccountIdentity,
} from '../../identity/service-account.ts';
import type { Reason } from '../../api/reasons.ts';
import { DEFAULT_AZURE_TIMEOUT_MS, withDeadline } from './deadline.ts';
import { isSignInError } from './errors.ts';

import { resolveServiceAccount, type AzureAuth } from './auth.ts';

export type { AzureAuth };
export { resolveServiceAccount };

const ENTRA_ID_HOSTS: readonly string[] = Object.values(AzureAuthorityHosts).map(
  (h) => new URL(h).host,
);

/**
 * AZURE_AUTHORITY_HOST when the operator's environment sets it (the AKS workload identity
 * webhook does), else the Entra ID of the vault's cloud.
 */
export function authorityHostFor(
  vaultUrl: string,
  env: Record<string, string | undefined> = process.env,
): string {
  if (env.AZURE_AUTHORITY_HOST) return env.AZURE_AUTHORITY_HOST;
  const host = new URL(vaultUrl).hostname;
  if (host.endsWith('.vault.azure.cn')) return AzureAuthorityHosts.AzureChina;
  if (host.endsWith('.vault.usgovcloudapi.net')) return AzureAuthorityHosts.AzureGovernment;
  return AzureAuthorityHosts.AzurePublicCloud;
}

/**
 * Entra ID hosts are confirmed by instance discovery (a request to the public cloud's
 * login host); an authority the operator was configured with (e.g. Azure Stack, a test
 * endpoint) is trusted as given.
 */
function authorityOptions(authorityHost: string) {
  const known = ENTRA_ID_HOSTS.includes(new URL(authorityHost).host);
  return { authorityHost, ...(known ? {} : { disableInstanceDiscovery: true }) };
}

/**
 * A token request that never ends would hang more than its caller: the SDKs' token cycler
 * shares one pending refresh, so every later request of that client would join it. Each
 * token request therefore ends by `timeoutMs` (or the caller's abort signal).
 */
export function withTokenDeadline(credential: TokenCredential, timeoutMs: number): TokenCredential {
  return {
    getToken: (scopes, options) =>
      withDeadline((abortSignal) => credential.getToken(scopes, { ...options, abortSignal }), {
        timeoutMs,
        what: 'Microsoft Entra ID (or the managed identity endpoint) for a token',
        signal: options?.abortSignal,
      }),
  };
}

// Entra ID's answers when no federated credential matches the assertion: AADSTS70021 and its
// issuer / subject / audience variants (AADSTS700211, AADSTS700212, AADSTS700213, ...).
const NO_FEDERATED_RECORD = /AADSTS7002\d*|No matching federated identity record/i;

interface SignInError {
  name?: string;
  statusCode?: number;
  message?: string;
  errorResponse?: { error?: string; errorDescription?: string };
  cause?: { message?: string; errorCode?: string };
}

/**
 * A ServiceAccount's token exchanged at Entra ID (ClientAssertionCredential). A refusal for want
 * of a federated credential says which one to create; nothing of the token is in any message.
 */
export function serviceAccountCredential(
  identity: ServiceAccountIdentity,
  vaultUrl: string,
): TokenCredential {
  const inner = new ClientAssertionCredential(
    identity.tenantId,
    identity.clientId,
    () => identity.assertion(),
    authorityOptions(authorityHostFor(vaultUrl)),
  );
  return {
    getToken: async (scopes, options) => {
      try {
        return await inner.getToken(scopes, options);
      } catch (err) {
        const e = (err ?? {}) as SignInError;
        const text = `${e.errorResponse?.errorDescription ?? ''} ${e.message ?? ''} ${e.cause?.message ?? ''}`;
        if (!isSignInError(err) || !NO_FEDERATED_RECORD.test(text)) throw err;
        const code = /AADSTS\d+/.exec(text)?.[0] ?? 'AADSTS70021';
        const description = `${code}: ${await identity.federatedCredentialHint()}.`;
        throw Object.assign(new Error(description), {
          name: 'AuthenticationError',
          statusCode: e.statusCode,
          errorResponse: {
            error: e.errorResponse?.error ?? e.cause?.errorCode ?? 'invalid_request',
            errorDescription: description,
          },
        });
      }
    },
  };
}

/**
 * `clientSecret` is read by the caller from the Secret named in servicePrincipal; `identity` is
 * the ServiceAccount's of a workloadIdentity with serviceAccountName. Callers wrap it in
 * withTokenDeadline.
 */
export function createCredential(
  auth: AzureAuth,
  vaultUrl: string,
  clientSecret?: string,
  identity?: ServiceAccountIdentity,
): TokenCredential {
  if (auth.workloadIdentity?.serviceAccountName) {
    if (!identity) throw new Error('the ServiceAccount identity was not resolved');
    return serviceAccountCredential(identity, vaultUrl);
  }
  const authority = authorityOptions(authorityHostFor(vaultUrl));
  if (auth.servicePrincipal) {
    if (!clientSecret) throw new Error('the service principal needs its client secret');
    return new ClientSecretCredential(
      auth.servicePrincipal.tenantId,
      auth.servicePrincipal.clientId,
      clientSecret,
      authority,
    );
  }
  if (auth.workloadIdentity) {
    const { clientId, tenantId } = auth.workloadIdentity;
    return new WorkloadIdentityCredential({
      ...authority,
      ...(clientId ? { clientId } : {}),
      ...(tenantId ? { tenantId } : {}),
    });
  }
  // Only when asked for: an auth naming nothing must not become the operator's own identity.
  if (!auth.managedIdentity) throw new Error('auth names no sign-in method');
  const { clientId } = auth.managedIdentity;
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}

export type ReadSecret = (
  namespace: string,
  name: string,
  key: string,
) => Promise<string | undefined>;

export type CredentialOutcome =
  | { ok: true; credential: TokenCredential; id: string }
  | { ok: false; message: string; reason?: Reason | undefined };

/** What makes two credentials the same identity (never a secret: a digest of it). */
export function identityKey(
  vaultUrl: string,
  auth: AzureAuth,
  clientSecret: string | undefined,
  identity: ServiceAccountIdentity | undefined,
): string {
  const secretDigest = clientSecret ? createHash('sha256').update(clientSecret).digest('hex') : '';
  const sa = identity
    ? [identity.namespace, identity.name, identity.uid, identity.clientId, identity.tenantId]
    : [];
  return JSON.stringify([vaultUrl, auth, secretDigest, ...sa]);
}

/**
 * The credential of one vault connection, reading a service principal's secret from the
 * account's namespace. `id` names the identity (with a digest of the secret, never the secret)
 * so that callers can reuse clients per identity.
 */
export async function credentialFor(
  namespace: string,
  vaultName: string,
  vaultUrl: string,
  auth: AzureAuth | undefined,
  readSecret: ReadSecret,
  timeoutMs: number = DEFAULT_AZURE_TIMEOUT_MS,
  serviceAccounts?: ServiceAccountIdentities,
): Promise<CredentialOutcome> {
  if (!auth) return { ok: false, message: `key vault ${vaultName} has no auth` };
  let identity: ServiceAccountIdentity | undefined;
  try {
    identity = await resolveServiceAccount(namespace, auth, serviceAccounts);
  } catch (err) {
    if (err instanceof IdentityError)
      return { ok: false, reason: err.reason, message: `key vault ${vaultName}: ${err.message}` };
    throw err;
  }
  let clientSecret: string | undefined;
  if (auth.servicePrincipal) {
    const ref = auth.servicePrincipal.clientSecretRef;
    clientSecret = await readSecret(namespace, ref.name, ref.key);
    if (!clientSecret) {
      return {
        ok: false,
        message: `the service principal's secret (Secret ${ref.name}, key ${ref.key}) was not found in namespace ${namespace}; waiting for it`,
      };
    }
  }
  try {
    return {
      ok: true,
      credential: withTokenDeadline(
        createCredential(auth, vaultUrl, clientSecret, identity),
        timeoutMs,
      ),
      id: identityKey(vaultUrl, auth, clientSecret, identity),
    };
  } catch (err) {
    // e.g. workload identity without the webhook's AZURE_FEDERATED_TOKEN_FILE in the pod
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, message: `no credential for key vault ${vaultName}: ${detail}` };
  }
}
