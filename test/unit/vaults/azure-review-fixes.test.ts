// Issue 8's vault findings, each as plain data: whose verdict a cached verdict is, when a cached
// failure is not reused, that caches shrink, how the emulator's and Azure's answers for a
// disabled or expired key are read, that a key restricted to RSA-PSS gives a reason instead of
// an exception, and that a silent vault does not hold a caller forever.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureKeyOperations, operationOf } from '../../../src/vaults/azure/client.ts';
import { classifyVaultError } from '../../../src/vaults/azure/errors.ts';
import { probeAzureKey, type KeyOperations } from '../../../src/vaults/azure/probes.ts';
import { CachingVerifier } from '../../../src/vaults/caching.ts';
import type {
  KeyVerdict,
  KeyVerificationRequest,
  KeyVerifier,
} from '../../../src/vaults/verifier.ts';
import { keyPair } from '../../support/keys.ts';

const vaultUrl = 'https://contoso-kv.vault.azure.net';
const ours = keyPair('rsa2048', 31);

function request(overrides: Partial<KeyVerificationRequest> = {}): KeyVerificationRequest {
  return {
    namespace: 'team-a',
    vault: {
      name: 'main',
      kind: 'azure',
      vaultUrl,
      extraHost: false,
      azureAuth: { managedIdentity: { clientId: 'team-a-identity' } },
    },
    key: { name: 'signing' },
    certificate: { sha256Fingerprint: 'AB', publicKeyObject: ours.publicKey },
    ...overrides,
  } as KeyVerificationRequest;
}

/** A verifier that answers from a table and counts what it was asked. */
function scripted(answer: (r: KeyVerificationRequest) => KeyVerdict) {
  const asked: KeyVerificationRequest[] = [];
  const verifier: KeyVerifier = {
    verify: (r) => {
      asked.push(r);
      return Promise.resolve(answer(r));
    },
  };
  return { verifier, asked };
}

const granted: KeyVerdict = {
  ok: true,
  vaultUrl,
  name: 'signing',
  version: 'v1',
  grants: ['list', 'get', 'decrypt', 'sign'],
  verifiedAt: new Date(),
};
const denied: KeyVerdict = { ok: false, reason: 'AccessDenied', message: 'no', terminal: true };
const missing: KeyVerdict = { ok: false, reason: 'KeyNotFound', message: 'no', terminal: true };

describe('CachingVerifier: a verdict belongs to (namespace, identity, vault, key, version, certificate key)', () => {
  it("does not hand one team's AccessGranted to another namespace or identity", async () => {
    const { verifier, asked } = scripted((r) =>
      r.namespace === 'team-a' && r.vault.azureAuth?.managedIdentity?.clientId === 'team-a-identity'
        ? granted
        : denied,
    );
    const cache = new CachingVerifier(verifier, 60_000);
    expect((await cache.verify(request())).ok).toBe(true);
    const otherNamespace = await cache.verify(request({ namespace: 'team-b' }));
    expect(otherNamespace.ok).toBe(false);
    const otherIdentity = await cache.verify(
      request({
        vault: {
          ...request().vault,
          azureAuth: { managedIdentity: { clientId: 'team-b-identity' } },
        },
      }),
    );
    expect(otherIdentity.ok).toBe(false);
    expect(asked).toHaveLength(3);
  });

  it('shares one probe between certificates with the same public key', async () => {
    const { verifier, asked } = scripted(() => granted);
    const cache = new CachingVerifier(verifier, 60_000);
    await cache.verify(
      request({
        certificate: { sha256Fingerprint: 'AA', publicKeyObject: ours.publicKey } as never,
      }),
    );
    await cache.verify(
      request({
        certificate: { sha256Fingerprint: 'BB', publicKeyObject: ours.publicKey } as never,
      }),
    );
    expect(asked).toHaveLength(1);
    const other = keyPair('rsa2048', 32).publicKey;
    await cache.verify(
      request({ certificate: { sha256Fingerprint: 'BB', publicKeyObject: other } as never }),
    );
    expect(asked).toHaveLength(2);
  });

  it('does not reuse a cached terminal failure for a certificate whose spec just changed', async () => {
    let answer: KeyVerdict = missing;
    const { verifier, asked } = scripted(() => answer);
    const cache = new CachingVerifier(verifier, 60_000);
    expect((await cache.verify(request())).ok).toBe(false);
    answer = granted; // the key was created in the vault
    expect((await cache.verify(request())).ok).toBe(false); // cached, as intended
    expect((await cache.verify(request({ specChanged: true }))).ok).toBe(true);
    expect(asked).toHaveLength(2);
  });

  it('stamps a cached failure with the time the vault was asked, so the recheck runs from then', async () => {
    let clock = 1_000_000;
    const { verifier } = scripted(() => missing);
    const cache = new CachingVerifier(verifier, 60_000, () => clock);
    const first = await cache.verify(request());
    clock += 30_000;
    const again = await cache.verify(request());
    expect(first.ok ? undefined : first.checkedAt?.getTime()).toBe(1_000_000);
    expect(again.ok ? undefined : again.checkedAt?.getTime()).toBe(1_000_000);
  });

  it('asks a vault that answered 429 nothing before its Retry-After, for any key', async () => {
    let clock = 0;
    const throttled: KeyVerdict = {
      ok: false,
      reason: 'VaultUnavailable',
      message: '429 Throttled',
      terminal: false,
      retryAfterMs: 8000,
    };
    let answer: KeyVerdict = throttled;
    const { verifier, asked } = scripted(() => answer);
    const cache = new CachingVerifier(verifier, 60_000, () => clock);
    await cache.verify(request());
    answer = granted;
    clock = 3000;
    const held = await cache.verify(request({ key: { name: 'another-key' } }));
    expect(held).toMatchObject({ ok: false, reason: 'VaultUnavailable', retryAfterMs: 5000 });
    expect(asked).toHaveLength(1);
    clock = 8000;
    expect((await cache.verify(request())).ok).toBe(true);
    expect(asked).toHaveLength(2);
  });

  it('drops verdicts nobody asked for within the interval', async () => {
    let clock = 0;
    const { verifier } = scripted(() => granted);
    const cache = new CachingVerifier(verifier, 1000, () => clock);
    for (let i = 0; i < 50; i++) await cache.verify(request({ key: { name: `k${i}` } }));
    expect(cache.size).toBe(50);
    clock = 5000;
    await cache.verify(request({ key: { name: 'still-used' } }));
    expect(cache.size).toBe(1);
  });
});

describe('classifyVaultError: a disabled or expired key, as the emulator and Azure answer', () => {
  const rest = (statusCode: number, code: string, message: string, inner?: string) =>
    Object.assign(new Error(message), {
      name: 'RestError',
      statusCode,
      code,
      details: { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } },
    });
  const emulatorNotFound = 'com.github.nagyesta.lowkeyvault.service.exception.NotFoundException';

  it('reads the reason of each answer', () => {
    const cases: [string, unknown, string][] = [
      [
        'Lowkey Vault get of a disabled key (404)',
        rest(404, emulatorNotFound, 'Operation get is not allowed on a disabled entity.'),
        'KeyDisabled',
      ],
      [
        'Lowkey Vault sign with a disabled key (500)',
        rest(500, 'java.lang.IllegalStateException', 'key:https://localhost:1/k/v is not enabled.'),
        'KeyDisabled',
      ],
      [
        'Azure sign with a disabled key (403 KeyDisabled)',
        rest(403, 'Forbidden', 'Operation sign is not allowed on a disabled key.', 'KeyDisabled'),
        'KeyDisabled',
      ],
      [
        "the SDK's own refusal of an expired key (no request sent)",
        new Error('Key https://localhost:1/keys/k/v expired at 2026-01-01T00:00:00.000Z'),
        'KeyExpired',
      ],
      [
        "the SDK's own refusal of a not-yet-valid key",
        new Error("Key https://localhost:1/keys/k/v can't be used before 2027-01-01T00:00:00.000Z"),
        'KeyExpired',
      ],
      [
        'a missing key',
        rest(404, emulatorNotFound, 'Key not found: key:https://x/k/--'),
        'KeyNotFound',
      ],
      [
        'a firewall refusal',
        rest(403, 'Forbidden', 'Client address is not authorized', 'ForbiddenByFirewall'),
        'AccessDenied',
      ],
      [
        'an invalid token',
        rest(401, 'Unauthorized', 'AKV10032: Invalid issuer.'),
        'AuthenticationFailed',
      ],
    ];
    for (const [what, error, reason] of cases)
      expect(classifyVaultError(error).reason, what).toBe(reason);
  });
});

describe('probeAzureKey with a key restricted to RSA-PSS', () => {
  it('gives UnsupportedKeyAlgorithm instead of throwing, with get denied', async () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const forbidden = Object.assign(new Error('denied'), {
      statusCode: 403,
      details: { error: { code: 'Forbidden', innererror: { code: 'ForbiddenByRbac' } } },
    });
    const ops: KeyOperations = {
      getKey: () => Promise.reject(forbidden),
      listVersions: () => Promise.resolve(),
      sign: () => Promise.reject(forbidden),
      decrypt: () => Promise.reject(forbidden),
    };
    const verdict = await probeAzureKey(ops, {
      vaultUrl,
      name: 'signing',
      version: undefined,
      certificateKey: pss.publicKey,
      now: new Date(),
    });
    expect(verdict).toMatchObject({ ok: false, reason: 'UnsupportedKeyAlgorithm', terminal: true });
  });
});

describe('operationOf: the metric names the operation of each request on the wire', () => {
  it('reads it from the method and path', () => {
    expect(operationOf('GET', `${vaultUrl}/keys?api-version=7.6&maxresults=1`)).toBe('listKeys');
    expect(operationOf('GET', `${vaultUrl}/keys/k/?api-version=7.6`)).toBe('get');
    expect(operationOf('GET', `${vaultUrl}/keys/k/0123abcd?api-version=7.6`)).toBe('get');
    expect(operationOf('GET', `${vaultUrl}/keys/k/versions?api-version=7.6&maxresults=1`)).toBe(
      'list',
    );
    expect(operationOf('POST', `${vaultUrl}/keys/k/0123abcd/sign?api-version=7.6`)).toBe('sign');
    expect(operationOf('POST', `${vaultUrl}/keys/k/0123abcd/decrypt?api-version=7.6`)).toBe(
      'decrypt',
    );
    expect(operationOf('POST', `${vaultUrl}/keys/k//decrypt?api-version=7.6`)).toBe('decrypt');
  });
});

describe('AzureKeyOperations against a vault that accepts and goes silent', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => {
      sockets.add(s); // never answers, not even the TLS handshake
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('gives up each call at its deadline, and the answer reads as VaultUnavailable', async () => {
    const credential: TokenCredential = {
      getToken: (): Promise<AccessToken> =>
        Promise.resolve({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const ops = new AzureKeyOperations({
      vaultUrl: `https://127.0.0.1:${port}`,
      credential,
      disableChallengeResourceVerification: true,
      metrics: undefined,
      timeoutMs: 500,
    });
    const started = Date.now();
    const results = await Promise.allSettled([
      ops.getKey('k', undefined),
      ops.sign({ name: 'k', version: 'v' }, new Uint8Array(32)),
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected')
        expect(classifyVaultError(r.reason).reason).toBe('VaultUnavailable');
    }
  });
});
