// Second review of the vault layer: a Retry-After hold is per tenant and names no other key,
// it never hides a fresh cached verdict, and Azure AD's sign-in failures are read as
// authentication failures with a message that stays the same from one attempt to the next.
import { AuthenticationError } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import {
  azureSignInFailure,
  classifyVaultError,
  stableSignInMessage,
} from '../../../src/vaults/azure/errors.ts';
import { CachingVerifier } from '../../../src/vaults/caching.ts';
import type {
  KeyVerdict,
  KeyVerificationRequest,
  KeyVerifier,
} from '../../../src/vaults/verifier.ts';
import { keyPair } from '../../support/keys.ts';

const vaultUrl = 'https://contoso-kv.vault.azure.net';

function request(namespace: string, key: string, seed: number): KeyVerificationRequest {
  return {
    namespace,
    vault: {
      name: 'main',
      kind: 'azure',
      vaultUrl,
      extraHost: false,
      azureAuth: {
        servicePrincipal: {
          tenantId: 't',
          clientId: 'c',
          clientSecretRef: { name: 'sp', key: 'secret' },
        },
      },
    },
    key: { name: key },
    certificate: { sha256Fingerprint: key, publicKeyObject: keyPair('rsa2048', seed).publicKey },
  } as KeyVerificationRequest;
}

const throttled = (r: KeyVerificationRequest): KeyVerdict => ({
  ok: false,
  reason: 'VaultUnavailable',
  terminal: false,
  retryAfterMs: 60_000,
  message: `key ${r.key.name} in ${vaultUrl}: 429 Throttled`,
});

function counting(answer: (r: KeyVerificationRequest) => KeyVerdict) {
  const asked: string[] = [];
  const verifier: KeyVerifier = {
    verify: (r) => {
      asked.push(`${r.namespace}/${r.key.name}`);
      return Promise.resolve(answer(r));
    },
  };
  return { verifier, asked };
}

describe('CachingVerifier: Retry-After holds', () => {
  it("does not hand team A's throttling (and key name) to team B in another namespace", async () => {
    const { verifier, asked } = counting((r) =>
      r.namespace === 'team-a'
        ? throttled(r)
        : {
            ok: true,
            vaultUrl,
            name: r.key.name,
            version: 'v1',
            grants: ['sign'],
            verifiedAt: new Date(),
          },
    );
    const cache = new CachingVerifier(verifier, 600_000);
    await cache.verify(request('team-a', 'team-a-secret-key', 1));
    const b = await cache.verify(request('team-b', 'team-b-key', 2));
    expect(asked).toEqual(['team-a/team-a-secret-key', 'team-b/team-b-key']);
    expect(b.ok).toBe(true);
  });

  it("gives another key of the same tenant a generic message, never the throttled key's name", async () => {
    let clock = 1_000_000;
    const { verifier, asked } = counting(throttled);
    const cache = new CachingVerifier(verifier, 600_000, () => clock);
    const first = await cache.verify(request('team-a', 'team-a-secret-key', 1));
    clock += 5_000;
    const other = await cache.verify(request('team-a', 'other-key', 2));
    expect(asked).toEqual(['team-a/team-a-secret-key']);
    expect(other.ok).toBe(false);
    if (other.ok || first.ok) return;
    expect(other.reason).toBe('VaultUnavailable');
    expect(other.message).not.toContain('team-a-secret-key');
    expect(other.message).toContain(new Date(1_000_000 + 60_000).toISOString());
    expect(other.retryAfterMs).toBe(55_000);
    // The key that was throttled keeps its own message: no status flip on its next reconcile.
    const again = await cache.verify(request('team-a', 'team-a-secret-key', 1));
    expect(again.ok ? '' : again.message).toBe(first.message);
  });

  it('a fresh cached verdict of one key is still answered while another key is on hold', async () => {
    const { verifier, asked } = counting((r) =>
      r.key.name === 'a'
        ? {
            ok: true,
            vaultUrl,
            name: 'a',
            version: 'v',
            grants: ['list', 'get', 'decrypt', 'sign'],
            verifiedAt: new Date(),
          }
        : throttled(r),
    );
    const cache = new CachingVerifier(verifier, 3_600_000);
    expect((await cache.verify(request('ns', 'a', 1))).ok).toBe(true);
    await cache.verify(request('ns', 'b', 2));
    const again = await cache.verify(request('ns', 'a', 1));
    expect(again.ok).toBe(true);
    expect(asked).toEqual(['ns/a', 'ns/b']);
  });
});

const aad = (status: number, error: string, description: string) =>
  new AuthenticationError(status, { error, error_description: description });

describe('classifyVaultError: Azure AD sign-in failures', () => {
  it('a disabled service principal (AADSTS7000112 "… is disabled") is an authentication failure, retried', () => {
    const verdict = classifyVaultError(
      aad(
        400,
        'unauthorized_client',
        "AADSTS7000112: Application 'aaaa-bbbb'(b2b-operator) is disabled. Trace ID: x",
      ),
    );
    expect(verdict.reason).toBe('AuthenticationFailed');
    expect(verdict.terminal).toBe(false);
    expect(verdict.detail).toContain('AADSTS7000112');
  });

  it('keeps the AADSTS code and first sentence, not the trace, correlation id or time of each attempt', () => {
    const attempt = (trace: string, at: string) =>
      classifyVaultError(
        aad(
          401,
          'invalid_client',
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value. Trace ID: ${trace} Correlation ID: ${trace} Timestamp: ${at}`,
        ),
      ).detail;
    const first = attempt('aaaa-1111', '2026-11-26 18:00:00Z');
    expect(attempt('bbbb-2222', '2026-11-26 18:01:00Z')).toBe(first);
    expect(first).toContain('AADSTS7000215: Invalid client secret provided.');
    expect(first).not.toMatch(/Trace ID|Correlation ID|Timestamp|aaaa-1111/);
  });
});

describe('CachingVerifier: a verdict expires an interval after the vault was asked', () => {
  it('an AccessGranted whose probe took 2 s is probed again when the reconciler rechecks it (verifiedAt + interval)', async () => {
    let clock = 1_000_000;
    const ttl = 60_000;
    const { verifier, asked } = counting((r) => {
      const verifiedAt = new Date(clock);
      clock += 2_000; // the probe's round trips
      return { ok: true, vaultUrl, name: r.key.name, version: 'v1', grants: ['sign'], verifiedAt };
    });
    const cache = new CachingVerifier(verifier, ttl, () => clock);
    const first = await cache.verify(request('ns', 'a', 1));
    if (!first.ok) throw new Error('expected AccessGranted');
    clock = first.verifiedAt.getTime() + ttl; // when the reconciler's recheck comes due
    await cache.verify(request('ns', 'a', 1));
    expect(asked).toEqual(['ns/a', 'ns/a']);
  });
});

describe('Azure sign-in failures in one line', () => {
  const managedIdentity = [
    'ManagedIdentityCredential: Authentication failed. Message Attempted to use the IMDS endpoint, but it is not available.',
    '',
    'To troubleshoot, visit https://aka.ms/azsdk/js/identity/managedidentitycredential/troubleshoot.',
  ].join('\n');
  const clientSecret = [
    'ClientSecretCredential authentication failed: ',
    'invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.',
    'Trace ID: 1234 Correlation ID: 5678 Timestamp: 2026-12-02 18:00:00Z',
    'To troubleshoot, visit https://aka.ms/azsdk/js/identity/serviceprincipalauthentication/troubleshoot',
  ].join('\n');

  it.each([
    [managedIdentity, /^ManagedIdentityCredential: Authentication failed\. .*not available\.$/],
    [clientSecret, /^AADSTS7000215: Invalid client secret provided\.$/],
  ])('keeps the first meaningful line of %#', (text, want) => {
    const line = stableSignInMessage(text);
    expect(line).toMatch(want);
    expect(line).not.toMatch(/\n|aka\.ms|troubleshoot/);
  });

  it('turns the identity SDK’s error into AuthenticationFailed with that line (the store’s sign-in)', () => {
    const failure = azureSignInFailure(
      Object.assign(new Error(managedIdentity), { name: 'CredentialUnavailableError' }),
    );
    expect(failure).toEqual({
      reason: 'AuthenticationFailed',
      message: `signing in to Azure failed: ${managedIdentity.split('\n')[0]}`,
    });
    expect(azureSignInFailure(new Error('socket hang up'))).toBeUndefined();
  });
});
