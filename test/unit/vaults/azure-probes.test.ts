// The grant probes and error classification, with the four Key Vault operations as plain
// objects backed by a local key (the real vault is exercised where the emulator runs).
import { constants, privateDecrypt, privateEncrypt, type KeyObject } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { classifyVaultError, retryAfterMs } from '../../../src/vaults/azure/errors.ts';
import {
  probeAzureKey,
  sha256DigestInfo,
  type KeyOperations,
  type Operation,
  type VaultKey,
} from '../../../src/vaults/azure/probes.ts';
import { CachingVerifier } from '../../../src/vaults/caching.ts';
import type {
  KeyVerdict,
  KeyVerificationRequest,
  KeyVerifier,
} from '../../../src/vaults/verifier.ts';
import { keyPair } from '../../support/keys.ts';

const vaultUrl = 'https://contoso-kv.vault.azure.net';
const now = new Date('2026-06-01T00:00:00Z');
const ours = keyPair('rsa2048', 31);

/** Key Vault's error shape as @azure/core-rest-pipeline's RestError carries it. */
function restError(statusCode: number, code: string, inner?: string, retryAfter?: string) {
  return Object.assign(new Error(`${statusCode} ${code}`), {
    name: 'RestError',
    statusCode,
    code,
    details: {
      error: { code, message: 'denied', ...(inner ? { innerError: { code: inner } } : {}) },
    },
    response: {
      headers: { get: (h: string) => (h === 'retry-after' ? retryAfter : undefined) },
      bodyAsText: null,
    },
  });
}

function vault(
  privateKey: KeyObject,
  faults: Partial<Record<Operation, Error>> = {},
  key: Partial<VaultKey> = {},
): KeyOperations & { calls: string[] } {
  const calls: string[] = [];
  const jwk = ours.publicKey.export({ format: 'jwk' });
  const run = <T>(op: Operation, value: () => T) => {
    calls.push(op);
    const fault = faults[op];
    return fault ? Promise.reject(fault) : Promise.resolve(value());
  };
  return {
    calls,
    getKey: (name, version) =>
      run('get', () => ({
        id: `${vaultUrl}/keys/${name}/${version ?? 'v1'}`,
        version: version ?? 'v1',
        enabled: true,
        jwk: {
          kty: 'RSA',
          n: Buffer.from(jwk.n!, 'base64url'),
          e: Buffer.from(jwk.e!, 'base64url'),
        },
        ...key,
      })),
    listVersions: () => run('list', () => undefined),
    sign: (_id, digest) =>
      run('sign', () =>
        privateEncrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
          sha256DigestInfo(digest),
        ),
      ),
    decrypt: (_id, ciphertext) =>
      run('decrypt', () => {
        try {
          return privateDecrypt(
            { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING },
            ciphertext,
          );
        } catch {
          throw restError(400, 'BadParameter'); // what Key Vault answers for undecryptable data
        }
      }),
  };
}

const input = {
  vaultUrl,
  name: 'fabrikam-signing',
  version: undefined,
  certificateKey: ours.publicKey,
  now,
};
const summary = (v: KeyVerdict) =>
  v.ok
    ? `ok ${v.version} ${v.grants.join(',')}`
    : `${v.reason}${v.terminal ? ' (terminal)' : ''}: ${v.message}`;

describe('probeAzureKey', () => {
  it('is ok when get, list, sign and decrypt all work with the certificate key', async () => {
    const ops = vault(ours.privateKey);
    expect(summary(await probeAzureKey(ops, input))).toBe('ok v1 list,get,decrypt,sign');
    expect(ops.calls.sort()).toEqual(['decrypt', 'get', 'list', 'sign']);
  });

  it('names only the denied operations and keeps Key Vault inner code', async () => {
    const v = await probeAzureKey(
      vault(ours.privateKey, { decrypt: restError(403, 'Forbidden', 'ForbiddenByRbac') }),
      input,
    );
    expect(summary(v)).toBe(
      "AccessDenied (terminal): grant 'list', 'get', 'decrypt' and 'sign' on key fabrikam-signing in https://contoso-kv.vault.azure.net to the operator's identity; denied: decrypt (ForbiddenByRbac): assign the role \"Key Vault Crypto User\" on the key or the vault (Azure RBAC), or add an access-policy entry with the key permissions list, get, decrypt and sign (vault access policy)",
    );
    const all = restError(403, 'Forbidden', 'AccessDenied');
    const everything = await probeAzureKey(
      vault(ours.privateKey, { get: all, list: all, sign: all, decrypt: all }),
      input,
    );
    expect(summary(everything)).toMatch(/denied: list, get, decrypt, sign \(AccessDenied\): /);
    const policy = await probeAzureKey(
      vault(ours.privateKey, { sign: restError(403, 'Forbidden', 'ForbiddenByPolicy') }),
      input,
    );
    expect(summary(policy)).toMatch(/denied: sign \(ForbiddenByPolicy\): /);
  });

  it('reports KeyNotFound, KeyDisabled, KeyExpired and KeyMismatch as terminal', async () => {
    expect(
      summary(
        await probeAzureKey(vault(ours.privateKey, { get: restError(404, 'KeyNotFound') }), input),
      ),
    ).toMatch(/^KeyNotFound \(terminal\)/);
    expect(
      summary(await probeAzureKey(vault(ours.privateKey, {}, { enabled: false }), input)),
    ).toMatch(/^KeyDisabled \(terminal\): .* is disabled/);
    expect(
      summary(
        await probeAzureKey(
          vault(ours.privateKey, {}, { expiresOn: new Date('2026-01-01') }),
          input,
        ),
      ),
    ).toMatch(/^KeyExpired \(terminal\): .*expired at 2026-01-01/);
    const other = keyPair('rsa2048', 32);
    const jwk = other.publicKey.export({ format: 'jwk' });
    const mismatch = vault(
      ours.privateKey,
      {},
      {
        jwk: {
          kty: 'RSA',
          n: Buffer.from(jwk.n!, 'base64url'),
          e: Buffer.from(jwk.e!, 'base64url'),
        },
      },
    );
    expect(summary(await probeAzureKey(mismatch, input))).toMatch(/^KeyMismatch \(terminal\)/);
    // A vault whose key answers get with our public key but signs with another: caught by the probes.
    expect(summary(await probeAzureKey(vault(other.privateKey), input))).toMatch(
      /^KeyMismatch \(terminal\): .*(signature|decrypt)/,
    );
  });

  it('treats throttling, server errors, timeouts and token failures as transient', async () => {
    const throttled = await probeAzureKey(
      vault(ours.privateKey, { get: restError(429, 'Throttled', undefined, '7') }),
      input,
    );
    expect(summary(throttled)).toMatch(/^VaultUnavailable: .*429 Throttled/);
    expect(
      summary(
        await probeAzureKey(
          vault(ours.privateKey, { sign: restError(503, 'ServiceUnavailable') }),
          input,
        ),
      ),
    ).toMatch(/^VaultUnavailable: sign on key/);
    const timeout = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), {
      code: 'ETIMEDOUT',
    });
    expect(summary(await probeAzureKey(vault(ours.privateKey, { get: timeout }), input))).toMatch(
      /^VaultUnavailable: /,
    );
    const token = Object.assign(new Error('ManagedIdentityCredential: no token'), {
      name: 'CredentialUnavailableError',
    });
    expect(summary(await probeAzureKey(vault(ours.privateKey, { get: token }), input))).toMatch(
      /^AuthenticationFailed: /,
    );
  });
});

describe('classifyVaultError', () => {
  it('reads Retry-After as seconds or a date', () => {
    expect(classifyVaultError(restError(429, 'Throttled', undefined, '3')).retryAfterMs).toBe(3000);
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe('CachingVerifier', () => {
  const request = {
    vault: { name: 'main', kind: 'azure', vaultUrl, extraHost: false },
    key: { name: 'k' },
    certificate: { sha256Fingerprint: 'AB', publicKeyObject: ours.publicKey },
    namespace: 'b2b',
  } as unknown as KeyVerificationRequest;
  const okVerdict: KeyVerdict = {
    ok: true,
    vaultUrl,
    name: 'k',
    version: 'v1',
    grants: [],
    verifiedAt: now,
  };

  it('coalesces concurrent checks of one key and reuses the verdict until the recheck interval', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const inner: KeyVerifier = {
      verify: () =>
        new Promise((r) => {
          calls++;
          release = () => r(okVerdict);
        }),
    };
    let clock = 0;
    const cache = new CachingVerifier(inner, 1000, () => clock);
    const both = Promise.all([cache.verify(request), cache.verify(request), cache.verify(request)]);
    release();
    expect((await both).every((v) => v.ok)).toBe(true);
    expect(calls).toBe(1);
    await cache.verify(request);
    expect(calls).toBe(1);
    clock = 1001;
    const again = cache.verify(request);
    release();
    await again;
    expect(calls).toBe(2);
  });

  it('does not cache transient failures', async () => {
    let calls = 0;
    const inner: KeyVerifier = {
      verify: () => {
        calls++;
        return Promise.resolve({
          ok: false,
          reason: 'VaultUnavailable',
          message: 'x',
          terminal: false,
        });
      },
    };
    const cache = new CachingVerifier(inner, 60_000);
    await cache.verify(request);
    await cache.verify(request);
    expect(calls).toBe(2);
  });
});

describe('Azure credentials', () => {
  it('picks the authority of the vault cloud', async () => {
    const { authorityHostFor } = await import('../../../src/vaults/azure/credentials.ts');
    expect(authorityHostFor('https://a.vault.azure.net')).toBe('https://login.microsoftonline.com');
    expect(authorityHostFor('https://a.vault.azure.cn')).toBe('https://login.chinacloudapi.cn');
    expect(authorityHostFor('https://a.vault.usgovcloudapi.net')).toBe(
      'https://login.microsoftonline.us',
    );
  });

  it('builds the credential the spec names', async () => {
    const { createCredential } = await import('../../../src/vaults/azure/credentials.ts');
    const { ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential } =
      await import('@azure/identity');
    const url = 'https://a.vault.azure.net';
    expect(createCredential({ managedIdentity: {} }, url)).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(createCredential({ managedIdentity: { clientId: 'c' } }, url)).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(() =>
      createCredential({ workloadIdentity: { clientId: 'c', tenantId: 't' } }, url),
    ).toThrow(/AZURE_FEDERATED_TOKEN_FILE/);
    vi.stubEnv('AZURE_FEDERATED_TOKEN_FILE', '/var/run/secrets/azure/tokens/azure-identity-token');
    expect(
      createCredential({ workloadIdentity: { clientId: 'c', tenantId: 't' } }, url),
    ).toBeInstanceOf(WorkloadIdentityCredential);
    vi.unstubAllEnvs();
    const sp = {
      servicePrincipal: { tenantId: 't', clientId: 'c', clientSecretRef: { name: 's', key: 'k' } },
    };
    expect(createCredential(sp, url, 'secret')).toBeInstanceOf(ClientSecretCredential);
    expect(() => createCredential(sp, url)).toThrow(/client secret/);
  });

  it('passes Retry-After of a throttled vault on to the controller', async () => {
    const v = await probeAzureKey(
      vault(ours.privateKey, { get: restError(429, 'Throttled', undefined, '7') }),
      input,
    );
    expect(v.ok ? undefined : v.retryAfterMs).toBe(7000);
  });
});

describe('a key whose permitted operations (key_ops) leave out decrypt or sign', () => {
  it('is KeyOperationNotPermitted, terminal, naming the operations the key allows and those it lacks', async () => {
    const ops = vault(ours.privateKey, {}, { keyOps: ['sign', 'verify'] });
    const v = await probeAzureKey(ops, input);
    expect(summary(v)).toMatch(
      /^KeyOperationNotPermitted \(terminal\): key fabrikam-signing version v1 in https:\/\/contoso-kv\.vault\.azure\.net permits sign, verify but not decrypt/,
    );
    expect(ops.calls).not.toContain('decrypt'); // known from get: nothing to ask the vault
  });

  it('reads the refusal as the SDK, Azure and the emulator give it when get could not tell', async () => {
    const local = new Error(
      'Operation decrypt is not supported on key https://contoso-kv.vault.azure.net/keys/k/v1',
    );
    const azure = Object.assign(restError(403, 'Forbidden', 'KeyOperationForbidden'), {
      details: {
        error: {
          code: 'Forbidden',
          message: 'Operation decrypt is not permitted on this key.',
          innererror: { code: 'KeyOperationForbidden' },
        },
      },
    });
    const emulator = Object.assign(restError(500, 'java.lang.IllegalStateException'), {
      details: {
        error: {
          code: 'java.lang.IllegalStateException',
          message: 'key:https://localhost:8443/k/v1 does not have SIGN operation assigned.',
        },
      },
    });
    for (const err of [local, azure, emulator])
      expect(classifyVaultError(err)).toMatchObject({
        reason: 'KeyOperationNotPermitted',
        terminal: true,
      });
    const v = await probeAzureKey(vault(ours.privateKey, { decrypt: local }), input);
    expect(summary(v)).toMatch(
      /^KeyOperationNotPermitted \(terminal\): key fabrikam-signing .*does not permit decrypt/,
    );
  });
});
