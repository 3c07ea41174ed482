// The four Key Vault operations through @azure/keyvault-keys. One KeyClient per (vault,
// identity) and one CryptographyClient per key version, both sharing the KeyClient's pipeline,
// so Key Vault's 401 challenge is answered once, not before every sign and decrypt. The SDK's
// own retries are off (the controller retries with backoff and honours Retry-After), every
// call has a deadline, requests in flight are bounded per vault, and every HTTP request that
// really leaves is counted in b2b_keyvault_requests_total, but for the 401 challenge.
import { KeyClient, type CryptographyClient, type KeyClientOptions } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import type { CertificateOperations, CertificateVersion } from './certificates.ts';
import type { Metrics } from '../../operator/metrics.ts';
import type { KeyOperations, KeyRef, VaultKey } from './probes.ts';

/** A vault that accepts and goes silent must not hold a worker: every call ends by then. */
export const DEFAULT_VAULT_TIMEOUT_MS = 30_000;

class Semaphore {
  private available: number;
  private readonly waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.available = limit;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.available > 0) this.available--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.available++;
    }
  }
}

export class VaultTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`${operation}: no answer from the vault within ${timeoutMs} ms (timeout)`);
    this.name = 'VaultTimeoutError';
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type PipelinePolicy = NonNullable<KeyClientOptions['additionalPolicies']>[number]['policy'];

/** The operation a Key Vault request performs, from its method and path. */
export function operationOf(method: string, url: string): string {
  const path = new URL(url).pathname.replace(/\/$/, '');
  if (method === 'GET' && path === '/keys') return 'listKeys';
  if (method === 'GET' && /^\/keys\/[^/]+\/versions$/.test(path)) return 'list';
  if (method === 'GET' && /^\/keys\/[^/]+(\/[^/]+)?$/.test(path)) return 'get';
  if (method === 'GET' && /^\/certificates\/[^/]+\/versions$/.test(path))
    return 'listCertificateVersions';
  if (method === 'GET' && /^\/certificates\/[^/]+(\/[^/]+)?$/.test(path)) return 'getCertificate';
  const action = /^\/keys\/[^/]+(?:\/[^/]*)?\/(sign|decrypt)$/.exec(path);
  if (method === 'POST' && action) return action[1]!;
  return 'other';
}

/** Counts each request on the wire, after the auth policy; the 401 challenge is signing in. */
export function requestCountingPolicy(
  count: (operation: string, code: string) => void,
): PipelinePolicy {
  return {
    name: 'b2bKeyVaultRequestCount',
    async sendRequest(request, next) {
      const operation = operationOf(request.method, request.url);
      try {
        const response = await next(request);
        // Key Vault's challenge: a new client's first request goes without a token on purpose,
        // to learn the tenant and resource; its 401 is part of signing in, not a failure.
        const challenge =
          response.status === 401 &&
          !request.headers.has('authorization') &&
          response.headers.get('www-authenticate') !== undefined;
        if (!challenge) count(operation, String(response.status));
        return response;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        count(operation, status ? String(status) : 'error');
        throw err;
      }
    },
  };
}

export interface AzureKeyOperationsOptions {
  vaultUrl: string;
  credential: TokenCredential;
  /** Only for hosts allowed by --allowed-vault-hosts (emulators): see vaults/hosts.ts. */
  disableChallengeResourceVerification: boolean;
  metrics: Metrics | undefined;
  maxInFlight?: number;
  timeoutMs?: number;
  now?: () => number;
}

export class AzureKeyOperations implements KeyOperations, CertificateOperations {
  private readonly keys: KeyClient;
  private readonly certificates: CertificateClient;
  private readonly limit: Semaphore;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  /** Per key version (and its last update): the client keeps the key it fetched once. */
  private readonly cryptoClients = new Map<
    string,
    { client: CryptographyClient; usedAt: number }
  >();

  constructor(options: AzureKeyOperationsOptions) {
    const { metrics } = options;
    // The keys and certificates APIs share the credential, the request counting and the
    // challenge handling; retries are the operator's own.
    const clientOptions = {
      disableChallengeResourceVerification: options.disableChallengeResourceVerification,
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [
        {
          policy: requestCountingPolicy((operation, code) =>
            metrics?.keyVaultRequests.inc({ operation, code }),
          ),
          position: 'perRetry' as const,
        },
      ],
    };
    this.keys = new KeyClient(options.vaultUrl, options.credential, clientOptions);
    this.certificates = new CertificateClient(options.vaultUrl, options.credential, clientOptions);
    this.limit = new Semaphore(options.maxInFlight ?? 8);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_VAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  /** Runs one call with a deadline: the request is aborted, and the caller freed even if not. */
  private call<T>(operation: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return this.limit.run(async () => {
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new VaultTimeoutError(operation, this.timeoutMs));
        }, this.timeoutMs);
      });
      try {
        return await Promise.race([run(abort.signal), deadline]);
      } finally {
        clearTimeout(timer);
      }
    });
  }

  getKey(name: string, version: string | undefined): Promise<VaultKey> {
    return this.call('get', async (abortSignal) => {
      const key = await this.keys.getKey(name, { abortSignal, ...(version ? { version } : {}) });
      return {
        id: key.id ?? '',
        version: key.properties.version ?? '',
        enabled: key.properties.enabled ?? true,
        notBefore: key.properties.notBefore,
        expiresOn: key.properties.expiresOn,
        updatedOn: key.properties.updatedOn,
        jwk: key.key ?? {},
        keyOps: key.keyOperations,
      };
    });
  }

  listVersions(name: string): Promise<void> {
    return this.call('list', async (abortSignal) => {
      // A failed page's error carries no body (so no inner code such as ForbiddenByRbac):
      // keep the raw answer and hand its body on with the error.
      let body: unknown;
      try {
        await this.keys
          .listPropertiesOfKeyVersions(name, {
            abortSignal,
            onResponse: (raw) => {
              body = raw.parsedBody ?? raw.bodyAsText;
            },
          })
          .byPage({ maxPageSize: 1 })
          .next();
      } catch (err) {
        const error = err as { details?: unknown };
        if (body !== undefined && typeof error === 'object' && error.details === undefined)
          error.details = typeof body === 'string' ? parseJson(body) : body;
        throw err;
      }
    });
  }

  getCertificate(name: string, version: string | undefined): Promise<CertificateVersion> {
    return this.call('getCertificate', async (abortSignal) => {
      const c = version
        ? await this.certificates.getCertificateVersion(name, version, { abortSignal })
        : await this.certificates.getCertificate(name, { abortSignal });
      return {
        version: c.properties.version ?? '',
        enabled: c.properties.enabled ?? true,
        createdOn: c.properties.createdOn,
        cer: c.cer,
        keyId: c.keyId,
      };
    });
  }

  listCertificateVersions(name: string): Promise<CertificateVersion[]> {
    return this.call('listCertificateVersions', async (abortSignal) => {
      const versions: CertificateVersion[] = [];
      for await (const p of this.certificates.listPropertiesOfCertificateVersions(name, {
        abortSignal,
      }))
        versions.push({
          version: p.version ?? '',
          enabled: p.enabled ?? true,
          createdOn: p.createdOn,
          cer: undefined,
          keyId: undefined,
        });
      return versions;
    });
  }

  sign(key: KeyRef, digest: Uint8Array): Promise<Uint8Array> {
    return this.call(
      'sign',
      async (abortSignal) =>
        (await this.cryptoClient(key).sign('RS256', digest, { abortSignal })).result,
    );
  }

  decrypt(key: KeyRef, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.call(
      'decrypt',
      async (abortSignal) =>
        (
          await this.cryptoClient(key).decrypt(
            { algorithm: 'RSA-OAEP', ciphertext },
            { abortSignal },
          )
        ).result,
    );
  }

  /**
   * The URL comes from the vault URL and the key's name and version, never from a key id the
   * vault sent: the token goes to the configured vault host only.
   */
  private cryptoClient(key: KeyRef): CryptographyClient {
    const id = JSON.stringify([key.name, key.version ?? '', key.updatedOn?.toISOString() ?? '']);
    let entry = this.cryptoClients.get(id);
    if (!entry) {
      const client = this.keys.getCryptographyClient(
        key.name,
        key.version ? { keyVersion: key.version } : {},
      );
      entry = { client, usedAt: 0 };
      this.cryptoClients.set(id, entry);
    }
    entry.usedAt = this.now();
    return entry.client;
  }

  /** Drops the clients of key versions nobody asked about since `before`. */
  prune(before: number): void {
    for (const [id, entry] of this.cryptoClients)
      if (entry.usedAt < before) this.cryptoClients.delete(id);
  }

  get cachedClients(): number {
    return this.cryptoClients.size;
  }
}
