// The kubernetes vault's verdicts, as plain data: a verdict is reused only while the key
// Secret is unchanged and the recheck interval has not passed, so a certificate is rechecked
// one interval after the last real check (not every second once the first verdict is old);
// AccessDenied is rechecked like everywhere else; verdicts nobody asks for are dropped.
import { describe, expect, it } from 'vitest';
import { inspectCertificate, type CertificateInfo } from '../../../src/certificates/inspect.ts';
import { CertificateReconciler } from '../../../src/controllers/certificate/reconciler.ts';
import type { StoreOutcome } from '../../../src/controllers/certificate/status.ts';
import { KubeApiError, type KubeClient } from '../../../src/kube/client.ts';
import { KubernetesKeyVerifier } from '../../../src/vaults/kubernetes-vault.ts';
import type { KeyVerdict, KeyVerificationRequest } from '../../../src/vaults/verifier.ts';
import { privateUsable } from '../../support/certs.ts';
import { keyPair } from '../../support/keys.ts';

const interval = 10 * 60_000;
const keyPem = keyPair('rsa2048', 0).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const certificate: CertificateInfo = inspectCertificate(privateUsable().der);

function request(overrides: Partial<KeyVerificationRequest> = {}): KeyVerificationRequest {
  return {
    namespace: 'ns',
    vault: { name: 'k', kind: 'kubernetes', vaultUrl: 'kubernetes://ns', extraHost: false },
    key: { name: 'key' },
    certificate,
    ...overrides,
  };
}

/** A verifier of a key Secret at resourceVersion 7 that the API answers (or forbids) as told. */
function secretApi() {
  const api = { gets: 0, forbidden: false };
  const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
  const client = {
    get: () => {
      api.gets++;
      if (api.forbidden)
        return Promise.reject(new KubeApiError(403, { reason: 'Forbidden' }, 'GET secret'));
      return Promise.resolve({
        metadata: { resourceVersion: '7' },
        data: { 'tls.key': Buffer.from(keyPem).toString('base64') },
      });
    },
  } as unknown as KubeClient;
  const verifier = new KubernetesKeyVerifier(
    client,
    () => '7',
    () => new Date(clock.t),
    interval,
  );
  return { api, clock, verifier };
}

/** When the certificate reconciler would visit again after this verdict (a Secret store). */
function nextVisitMs(verdict: KeyVerdict, now: Date): number | undefined {
  const nextVisit = (
    CertificateReconciler.prototype as unknown as {
      nextVisit: (e: object, v: KeyVerdict, s: StoreOutcome, n: Date) => number | undefined;
    }
  ).nextVisit;
  const store: StoreOutcome = { kind: 'synced', ref: 'c-b2bcert', written: false };
  return nextVisit.call({ deps: { recheckIntervalMs: interval } }, {}, verdict, store, now);
}

describe('KubernetesKeyVerifier', () => {
  it('rechecks one interval after the last real check, not every second once the verdict is old', async () => {
    const { api, clock, verifier } = secretApi();
    const first = await verifier.verify(request());
    expect(first.ok).toBe(true);
    expect(api.gets).toBe(1);

    clock.t += interval / 2; // within the interval: the verdict is reused
    const reused = await verifier.verify(request());
    expect(api.gets).toBe(1);
    expect(nextVisitMs(reused, new Date(clock.t))).toBe(interval / 2);

    clock.t += interval / 2 + 5_000; // past it: the key is read and probed again
    const second = await verifier.verify(request());
    expect(second.ok).toBe(true);
    expect(api.gets).toBe(2);
    expect(nextVisitMs(second, new Date(clock.t))).toBe(interval);

    clock.t += 1000;
    await verifier.verify(request());
    expect(api.gets).toBe(2);
  });

  it('a verdict already past its recheck is not rechecked every second', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const stale: KeyVerdict = {
      ok: true,
      vaultUrl: 'kubernetes://ns',
      name: 'key',
      version: 'v',
      grants: [],
      verifiedAt: new Date(now.getTime() - interval - 5_000),
    };
    expect(nextVisitMs(stale, now)).toBe(interval);
  });

  it('does not keep AccessDenied once the user acted on it or the interval passed', async () => {
    const { api, clock, verifier } = secretApi();
    api.forbidden = true;
    const denied = await verifier.verify(request());
    expect(denied).toMatchObject({ ok: false, reason: 'AccessDenied' });
    expect(nextVisitMs(denied, new Date(clock.t))).toBe(interval);

    api.forbidden = false; // RBAC granted, and the user touched the certificate
    expect((await verifier.verify(request({ specChanged: true }))).ok).toBe(true);

    api.forbidden = true;
    clock.t += interval + 1;
    expect((await verifier.verify(request())).ok).toBe(false);
    api.forbidden = false; // RBAC granted, nobody touched anything: the recheck finds it
    clock.t += interval + 1;
    expect((await verifier.verify(request())).ok).toBe(true);
  });

  it('drops the verdicts nobody asked for within the interval', async () => {
    const { api, clock, verifier } = secretApi();
    api.forbidden = true;
    const withFingerprint = (i: number) =>
      request({ certificate: { ...certificate, sha256Fingerprint: `F${i}` } });
    for (let i = 0; i < 100; i++) await verifier.verify(withFingerprint(i));
    expect(verifier.size).toBe(100);
    clock.t += interval + 1;
    await verifier.verify(withFingerprint(0));
    expect(verifier.size).toBe(1);
  });
});
