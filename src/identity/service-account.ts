// A team's own Azure identity: a ServiceAccount of the object's namespace (API.md,
// "workloadIdentity.serviceAccountName"). The ServiceAccount is read for its client and tenant
// annotations; a token of it is requested through the TokenRequest API (audience
// api://AzureADTokenExchange) and reused until shortly before it expires. Tokens live in memory
// only: never in a log line, an error message, an event or a status.
import { Reason } from '../api/reasons.ts';
import { KubeApiError, isNotFound, type KubeClient } from '../kube/client.ts';

export const TOKEN_AUDIENCE = 'api://AzureADTokenExchange';
export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
export const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';
/** The shortest lifetime the API server issues (10 minutes). */
export const TOKEN_EXPIRATION_SECONDS = 600;
/** A token is reused for at most this share of its lifetime, then a new one is requested. */
const REUSE_SHARE = 0.8;
/** A ServiceAccount read is reused this long (a burst of certificates costs one GET). */
const SERVICE_ACCOUNT_TTL_MS = 5_000;

export const subjectOf = (namespace: string, name: string) =>
  `system:serviceaccount:${namespace}:${name}`;

/** Why a ServiceAccount's identity cannot be used; the reason of API.md, retried (not terminal). */
export class IdentityError extends Error {
  readonly reason: Reason;
  constructor(reason: Reason, message: string) {
    super(message);
    this.name = 'IdentityError';
    this.reason = reason;
  }
}

export interface ServiceAccountIdentity {
  namespace: string;
  name: string;
  /** The ServiceAccount object's uid: a deleted and re-created one is another identity. */
  uid: string;
  clientId: string;
  tenantId: string;
  /** A token of the ServiceAccount for Entra ID (the client assertion). */
  assertion(): Promise<string>;
  /** The federated credential Entra ID needs, in words (no token in it). */
  federatedCredentialHint(): Promise<string>;
}

export interface ServiceAccountIdentities {
  /** Rejects with an IdentityError when the ServiceAccount cannot give an identity. */
  identity(
    namespace: string,
    name: string,
    overrides?: { clientId?: string | undefined; tenantId?: string | undefined },
  ): Promise<ServiceAccountIdentity>;
}

interface ServiceAccountObject {
  metadata?: { uid?: string; annotations?: Record<string, string> };
}

interface TokenRequestAnswer {
  status?: { token?: string; expirationTimestamp?: string };
}

interface CachedToken {
  token: string;
  refreshAt: number;
}

export interface ServiceAccountTokensOptions {
  client: KubeClient;
  now?: () => number;
  /** Tests only: reuse a token at most this long (a real token lives 10 minutes at least). */
  maxReuseMs?: number | undefined;
}

/** The `iss` claim of a JWT, without verifying it (only to name the issuer in a hint). */
export function issuerClaim(jwt: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { iss?: unknown } | null;
    return typeof payload?.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

/** What to create in Entra ID so that it trusts the ServiceAccount: one line, no token. */
export function federatedCredentialHint(facts: {
  namespace: string;
  name: string;
  clientId: string;
  issuer: string | undefined;
}): string {
  const issuer =
    facts.issuer ??
    "<the cluster's service account issuer: az aks show --query oidcIssuerProfile.issuerUrl, or kubectl get --raw /.well-known/openid-configuration>";
  return `no federated credential of identity ${facts.clientId} trusts ServiceAccount ${facts.namespace}/${facts.name}: create one with issuer ${issuer}, subject ${subjectOf(facts.namespace, facts.name)} and audience ${TOKEN_AUDIENCE} (az identity federated-credential create, see docs/security.md)`;
}

export class ServiceAccountTokens implements ServiceAccountIdentities {
  private readonly options: ServiceAccountTokensOptions;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly accounts = new Map<
    string,
    { at: number; read: Promise<ServiceAccountObject> }
  >();
  private discoveredIssuer: string | undefined;

  constructor(options: ServiceAccountTokensOptions) {
    this.options = options;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  async identity(
    namespace: string,
    name: string,
    overrides: { clientId?: string | undefined; tenantId?: string | undefined } = {},
  ): Promise<ServiceAccountIdentity> {
    const account = await this.readServiceAccount(namespace, name);
    const annotations = account.metadata?.annotations ?? {};
    const clientId = overrides.clientId || annotations[CLIENT_ID_ANNOTATION];
    const tenantId = overrides.tenantId || annotations[TENANT_ID_ANNOTATION];
    const missing = [
      ...(clientId ? [] : [`${CLIENT_ID_ANNOTATION} (or auth.workloadIdentity.clientId)`]),
      ...(tenantId ? [] : [`${TENANT_ID_ANNOTATION} (or auth.workloadIdentity.tenantId)`]),
    ];
    if (!clientId || !tenantId)
      throw new IdentityError(
        Reason.ServiceAccountNotAnnotated,
        `ServiceAccount ${namespace}/${name} does not name its Azure identity: annotate it with ${missing.join(' and ')}, e.g. kubectl annotate serviceaccount ${name} -n ${namespace} ${CLIENT_ID_ANNOTATION}=<client ID>`,
      );
    const uid = account.metadata?.uid ?? '';
    return {
      namespace,
      name,
      uid,
      clientId,
      tenantId,
      assertion: () => this.token(namespace, name, uid),
      federatedCredentialHint: async () =>
        federatedCredentialHint({
          namespace,
          name,
          clientId,
          issuer: await this.issuer(namespace, name, uid),
        }),
    };
  }

  /** One GET, reused for a few seconds; a missing ServiceAccount is ServiceAccountNotFound. */
  private async readServiceAccount(namespace: string, name: string): Promise<ServiceAccountObject> {
    const key = `${namespace}/${name}`;
    const now = this.now();
    let entry = this.accounts.get(key);
    if (!entry || now - entry.at >= SERVICE_ACCOUNT_TTL_MS) {
      entry = {
        at: now,
        read: this.options.client.get<ServiceAccountObject>(saPath(namespace, name)),
      };
      this.accounts.set(key, entry);
      for (const [k, e] of this.accounts)
        if (now - e.at >= SERVICE_ACCOUNT_TTL_MS) this.accounts.delete(k);
    }
    try {
      return await entry.read;
    } catch (err) {
      if (this.accounts.get(key) === entry) this.accounts.delete(key);
      throw this.failure(err, namespace, name, 'get serviceaccounts');
    }
  }

  /** A token of the ServiceAccount, from the cache while it has time left. */
  async token(namespace: string, name: string, uid: string): Promise<string> {
    const key = `${namespace}/${name}/${uid}`;
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.refreshAt) return cached.token;
    let request = this.pending.get(key);
    if (!request) {
      request = this.requestToken(namespace, name, key).finally(() => this.pending.delete(key));
      this.pending.set(key, request);
    }
    return request;
  }

  private async requestToken(namespace: string, name: string, key: string): Promise<string> {
    const issuedAt = this.now();
    let answer: TokenRequestAnswer;
    try {
      answer = await this.options.client.create<TokenRequestAnswer>(
        `${saPath(namespace, name)}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { audiences: [TOKEN_AUDIENCE], expirationSeconds: TOKEN_EXPIRATION_SECONDS },
        },
      );
    } catch (err) {
      throw this.failure(err, namespace, name, 'create serviceaccounts/token');
    }
    const token = answer.status?.token;
    if (!token)
      throw new IdentityError(
        Reason.AuthenticationFailed,
        `the API server answered the token request for ServiceAccount ${namespace}/${name} without a token`,
      );
    const expires = Date.parse(answer.status?.expirationTimestamp ?? '');
    const lifetime = Number.isNaN(expires) ? TOKEN_EXPIRATION_SECONDS * 1000 : expires - issuedAt;
    const reuse = Math.min(lifetime * REUSE_SHARE, this.options.maxReuseMs ?? Infinity);
    this.tokens.set(key, { token, refreshAt: issuedAt + reuse });
    for (const [k, t] of this.tokens) if (t.refreshAt <= issuedAt) this.tokens.delete(k);
    return token;
  }

  /**
   * The issuer Entra ID must trust: the API server's discovery document when the operator may
   * read it (system:service-account-issuer-discovery), else the `iss` of the token it holds.
   */
  private async issuer(namespace: string, name: string, uid: string): Promise<string | undefined> {
    if (!this.discoveredIssuer) {
      try {
        const doc = await this.options.client.get<{ issuer?: string }>(
          '/.well-known/openid-configuration',
        );
        this.discoveredIssuer = doc.issuer || undefined;
      } catch {
        // not readable (RBAC): fall back to the token's claim
      }
    }
    if (this.discoveredIssuer) return this.discoveredIssuer;
    const cached = this.tokens.get(`${namespace}/${name}/${uid}`);
    return cached ? issuerClaim(cached.token) : undefined;
  }

  /** IdentityError when the ServiceAccount itself is the problem; a plain Error for an outage. */
  private failure(err: unknown, namespace: string, name: string, verb: string): Error {
    if (isNotFound(err))
      return new IdentityError(
        Reason.ServiceAccountNotFound,
        `ServiceAccount ${name} was not found in namespace ${namespace}: create it (kubectl create serviceaccount ${name} -n ${namespace}) and annotate it with ${CLIENT_ID_ANNOTATION} and ${TENANT_ID_ANNOTATION}`,
      );
    // The NamespaceLifecycle admission refuses every create in a namespace being deleted,
    // a token request included: no RBAC change helps.
    if (err instanceof KubeApiError && err.status === 403 && /being terminated/.test(err.message))
      return new IdentityError(
        Reason.AuthenticationFailed,
        `namespace ${namespace} is being deleted, and the API server issues no token for ServiceAccount ${name} in it: remove the finalizer of what still waits, and delete its Azure entry yourself (docs/API.md, "The azure store")`,
      );
    if (err instanceof KubeApiError && err.status === 403)
      return new IdentityError(
        Reason.AuthenticationFailed,
        `the operator may not ${verb} for ServiceAccount ${namespace}/${name}: grant it (deploy/rbac.yaml)`,
      );
    const detail = err instanceof Error ? err.message : String(err);
    // The API server's 5xx, 429 or no answer: an outage, retried as one (not a refused identity).
    if (!(err instanceof KubeApiError) || err.status >= 500 || err.status === 429)
      return new Error(`the ServiceAccount ${namespace}/${name} could not be used: ${detail}`);
    return new IdentityError(
      Reason.AuthenticationFailed,
      `the ServiceAccount ${namespace}/${name} could not be used: ${detail}`,
    );
  }
}

const saPath = (namespace: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`;
