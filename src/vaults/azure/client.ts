// The four Key Vault operations through @azure/keyvault-keys, one request each: the SDK's own
// retries are off (the controller retries with backoff and honours Retry-After), requests in
// flight are bounded per vault, and every answer is counted in b2b_keyvault_requests_total.
import { CryptographyClient, KeyClient } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import type { Metrics } from '../../operator/metrics.ts';
import type { KeyOperations, VaultKey } from './probes.ts';

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

export interface AzureKeyOperationsOptions {
  vaultUrl: string;
  credential: TokenCredential;
  /** Only for hosts allowed by --allowed-vault-hosts (emulators): see vaults/hosts.ts. */
  disableChallengeResourceVerification: boolean;
  metrics: Metrics | undefined;
  maxInFlight?: number;
}

export class AzureKeyOperations implements KeyOperations {
  private readonly keys: KeyClient;
  private readonly options: AzureKeyOperationsOptions;
  private readonly limit: Semaphore;
  private readonly clientOptions;

  constructor(options: AzureKeyOperationsOptions) {
    this.options = options;
    this.clientOptions = {
      disableChallengeResourceVerification: options.disableChallengeResourceVerification,
      retryOptions: { maxRetries: 0 },
    };
    this.keys = new KeyClient(options.vaultUrl, options.credential, this.clientOptions);
    this.limit = new Semaphore(options.maxInFlight ?? 8);
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return this.limit.run(async () => {
      try {
        const result = await run();
        this.options.metrics?.keyVaultRequests.inc({ operation, code: '200' });
        return result;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        this.options.metrics?.keyVaultRequests.inc({
          operation,
          code: status ? String(status) : 'error',
        });
        throw err;
      }
    });
  }

  getKey(name: string, version: string | undefined): Promise<VaultKey> {
    return this.call('get', async () => {
      const key = await this.keys.getKey(name, version ? { version } : {});
      return {
        id: key.id ?? '',
        version: key.properties.version ?? '',
        enabled: key.properties.enabled ?? true,
        notBefore: key.properties.notBefore,
        expiresOn: key.properties.expiresOn,
        jwk: key.key ?? {},
      };
    });
  }

  listVersions(name: string): Promise<void> {
    return this.call('list', async () => {
      await this.keys.listPropertiesOfKeyVersions(name).byPage({ maxPageSize: 1 }).next();
    });
  }

  /** A CryptographyClient made from the key id (not a key object) does sign and decrypt remotely. */
  sign(keyId: string, digest: Uint8Array): Promise<Uint8Array> {
    return this.call('sign', async () => {
      const client = new CryptographyClient(keyId, this.options.credential, this.clientOptions);
      return (await client.sign('RS256', digest)).result;
    });
  }

  decrypt(keyId: string, ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.call('decrypt', async () => {
      const client = new CryptographyClient(keyId, this.options.credential, this.clientOptions);
      return (await client.decrypt({ algorithm: 'RSA-OAEP', ciphertext })).result;
    });
  }
}
