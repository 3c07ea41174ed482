// The reconciler with a Key Vault certificate source, on plain fakes: the certificate's own key
// at the version of the certificate version, a renewal synced, a renewal that fails a check
// rejected while the last good version stays in the store, and the events that say so.
import { describe, expect, it } from 'vitest';
import type { Certificate, CertificateStatus, IntegrationAccount } from '../../../src/api/types.ts';
import {
  CertificateReconciler,
  type CertificateReconcilerDeps,
} from '../../../src/controllers/certificate/reconciler.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import type { Store, StoreEntry, SyncResult } from '../../../src/stores/store.ts';
import type {
  CertificateRead,
  CertificateReadRequest,
} from '../../../src/vaults/certificate-source.ts';
import type { KeyVerificationRequest } from '../../../src/vaults/verifier.ts';
import { privateUsable } from '../../support/certs.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const valid = {
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2027-06-01T00:00:00Z'),
};
const good = (slot: number) => privateUsable(valid, slot);
const noDataEncipherment = (slot: number) =>
  privateUsable({ ...valid, keyUsage: ['digitalSignature', 'keyEncipherment'] }, slot);

const account: IntegrationAccount = {
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'IntegrationAccount',
  metadata: { name: 'contoso', namespace: 'b2b', generation: 1 },
  spec: {
    keyVaults: [
      {
        name: 'main',
        azure: { vaultUrl: 'https://kv.vault.azure.net', auth: { managedIdentity: {} } },
      },
    ],
  },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: '',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  },
};

function certificate(
  spec: Partial<Certificate['spec']> = {},
  status?: CertificateStatus,
): Certificate {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: {
      name: 'signing',
      namespace: 'b2b',
      uid: 'u1',
      generation: 1,
      resourceVersion: '7',
      finalizers: ['integration.b2b.dev/finalizer'],
    },
    spec: {
      integrationAccount: { name: 'contoso' },
      type: 'Private',
      certificate: { keyVault: { vault: 'main', name: 'signing', version: '' } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

/** The vault: versions by name, the newest last; each with its key version. */
function run(
  c: Certificate,
  versions: { version: string; der: Buffer }[],
  latest = versions.at(-1)!.version,
  syncResult: Partial<SyncResult> = {},
  /** Reads of these versions fail with this answer (e.g. the vault busy). */
  readFailures: Record<string, CertificateRead> = {},
) {
  const reads: CertificateReadRequest[] = [];
  const verified: KeyVerificationRequest[] = [];
  const synced: StoreEntry[] = [];
  const events: { type: string; reason: string; message: string }[] = [];
  let status: CertificateStatus | undefined;
  const rollovers: (Date | undefined)[] = [];
  const deps = {
    client: {
      patch: (_path: string, body: { status?: CertificateStatus }) => {
        status = body.status;
        return Promise.resolve({});
      },
    } as unknown as KubeClient,
    certificate: () => c,
    lookups: {
      account: () => account,
      certificatesOf: () => [c],
      certificateCount: () => 1,
      secretExists: () => false,
      configMapExists: () => false,
    },
    store: {
      needsFinalizer: () => true,
      refFor: () => 'signing-b2bcert',
      applyDeletionPolicy: () => Promise.resolve(),
      sync: (request: StoreEntry) => {
        synced.push(request);
        return Promise.resolve({ ref: 'signing-b2bcert', written: true, ...syncResult });
      },
    } as unknown as Store,
    keyVerifier: {
      verify: (request: KeyVerificationRequest) => {
        verified.push(request);
        return Promise.resolve({
          ok: true as const,
          vaultUrl: request.vault.vaultUrl,
          name: request.key.name,
          version: request.key.version ?? '',
          grants: ['list', 'get', 'decrypt', 'sign'],
          verifiedAt: NOW,
        });
      },
    },
    certificateReader: {
      read: (request: CertificateReadRequest): Promise<CertificateRead> => {
        reads.push(request);
        const failure = readFailures[request.version ?? latest];
        if (failure) return Promise.resolve(failure);
        const v = versions.find((x) => x.version === (request.version ?? latest));
        return Promise.resolve(
          v
            ? {
                ok: true,
                certificate: {
                  version: v.version,
                  cer: v.der,
                  key: { name: 'signing', version: `key-${v.version}` },
                },
              }
            : { ok: false, reason: 'CertificateSourceNotFound', message: 'gone', terminal: true },
        );
      },
    },
    keyVaultPollIntervalMs: 120_000,
    events: {
      emit: (_o: unknown, type: string, reason: string, message: string) =>
        events.push({ type, reason, message }),
    },
    metrics: {
      setCertificate: () => {},
      setRollover: (_ns: string, _name: string, at: Date | undefined) => rollovers.push(at),
      setCertificateInUse: () => {},
    },
    log: { info: () => {}, warn: () => {} },
    now: () => NOW,
    allowedVaultHosts: [],
    recheckIntervalMs: 3_600_000,
    certificateCrdDeleting: () => Promise.resolve(false),
    deletedWithOrphan: () => false,
  } as unknown as CertificateReconcilerDeps;
  return {
    result: new CertificateReconciler(deps).reconcile('b2b/signing'),
    reads,
    verified,
    synced,
    events,
    status: () => status,
    rollovers,
  };
}

const conditionOf = (s: CertificateStatus | undefined, type: string) =>
  s?.conditions?.find((x) => x.type === type);

/** What the status says after the first version was synced. */
const syncedAt = (version: string, thumbprint: string): CertificateStatus => ({
  observedGeneration: 1,
  thumbprint,
  keyVaultCertificate: { vault: 'main', name: 'signing', version },
  store: { ref: 'signing-b2bcert', syncedTime: '2026-05-01T00:00:00Z' },
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Ready',
      message: 'ok',
      lastTransitionTime: '2026-05-01T00:00:00Z',
    },
  ],
});

describe('CertificateReconciler with a Key Vault certificate source', () => {
  it("verifies the certificate's own key at that version's key version, syncs it and comes back within the poll interval", async () => {
    const r = run(certificate(), [{ version: 'v1', der: good(81).der }]);
    const result = await r.result;
    expect(r.verified.map((v) => v.key)).toEqual([{ name: 'signing', version: 'key-v1' }]);
    expect(r.synced).toHaveLength(1);
    expect(r.synced[0]?.key).toMatchObject({ vault: 'main', name: 'signing', version: 'key-v1' });
    expect(r.status()?.keyVaultCertificate).toEqual({
      vault: 'main',
      name: 'signing',
      version: 'v1',
    });
    expect(conditionOf(r.status(), 'RenewalReady')).toMatchObject({
      status: 'True',
      reason: 'LatestVersionSynced',
    });
    expect(result?.requeueAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('verifies an explicit spec.key as written, not the key id the vault returned', async () => {
    const c = certificate({ key: { vault: 'main', name: 'other', version: 'k9' } });
    const r = run(c, [{ version: 'v1', der: good(81).der }]);
    await r.result;
    expect(r.verified.map((v) => v.key)).toEqual([{ name: 'other', version: 'k9' }]);
  });

  it('syncs a valid new version with its new key version, with a Normal Renewed event', async () => {
    const v1 = good(81);
    const r = run(certificate({}, syncedAt('v1', 'OLD')), [
      { version: 'v1', der: v1.der },
      { version: 'v2', der: good(82).der },
    ]);
    await r.result;
    expect(r.synced).toHaveLength(1);
    expect(r.synced[0]?.key?.version).toBe('key-v2');
    expect(r.status()?.keyVaultCertificate?.version).toBe('v2');
    const renewed = r.events.find((e) => e.reason === 'Renewed');
    expect(renewed).toMatchObject({ type: 'Normal' });
    expect(renewed?.message).toMatch(/version v2 .* replaced version v1 \(thumbprint OLD\)/);
  });

  it('rejects a new version that fails a check: the last good version stays in the store, Ready stays True, RenewalReady=False with a Warning', async () => {
    const v1 = good(81);
    const r = run(certificate({}, syncedAt('v1', 'OLD')), [
      { version: 'v1', der: v1.der },
      { version: 'v2', der: noDataEncipherment(82).der },
    ]);
    await r.result;
    expect(r.reads.map((x) => x.version)).toEqual([undefined, 'v1']);
    expect(r.synced).toHaveLength(1);
    expect(r.synced[0]?.pem.replace(/\s/g, '')).toBe(v1.pem.replace(/\s/g, ''));
    expect(r.synced[0]?.key?.version).toBe('key-v1');
    const s = r.status();
    expect(conditionOf(s, 'Ready')).toMatchObject({ status: 'True' });
    expect(conditionOf(s, 'RenewalReady')).toMatchObject({
      status: 'False',
      reason: 'MissingDataEncipherment',
    });
    expect(conditionOf(s, 'RenewalReady')?.message).toMatch(
      /^version v2 of Key Vault certificate signing .* is not used: .*; version v1 stays in the store$/,
    );
    expect(s?.keyVaultCertificate?.version).toBe('v1');
    expect(r.events.filter((e) => e.type === 'Warning').map((e) => e.reason)).toEqual([
      'RenewalRejected',
    ]);
    expect(r.events.some((e) => e.reason === 'Renewed')).toBe(false);
  });

  it('a rejected renewal whose last good version cannot be read just now (vault 503) changes nothing and is retried', async () => {
    const r = run(
      certificate({}, syncedAt('v1', 'OLD')),
      [
        { version: 'v1', der: good(81).der },
        { version: 'v2', der: noDataEncipherment(82).der },
      ],
      'v2',
      {},
      { v1: { ok: false, reason: 'VaultUnavailable', message: '503 busy', terminal: false } },
    );
    await expect(r.result).rejects.toThrow(/version v1 .*could not be checked again.*503 busy/);
    expect(r.synced).toEqual([]);
    expect(r.status()).toBeUndefined(); // Ready stays as it was; no Stalled on v2's reason
    expect(r.events).toEqual([]);
  });

  it('without a last good version, a failing first version is the Ready reason and nothing is stored', async () => {
    const r = run(certificate(), [{ version: 'v1', der: noDataEncipherment(81).der }]);
    await r.result;
    expect(r.synced).toEqual([]);
    expect(conditionOf(r.status(), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'MissingDataEncipherment',
    });
    expect(conditionOf(r.status(), 'RenewalReady')?.status).toBe('Unknown');
  });

  it('a pinned version follows no renewal: no RenewalReady', async () => {
    const c = certificate({
      certificate: { keyVault: { vault: 'main', name: 'signing', version: 'v1' } },
    });
    const r = run(c, [
      { version: 'v1', der: good(81).der },
      { version: 'v2', der: good(82).der },
    ]);
    await r.result;
    expect(r.reads.map((x) => x.version)).toEqual(['v1']);
    expect(conditionOf(r.status(), 'RenewalReady')).toBeUndefined();
    expect(r.synced[0]?.key?.version).toBe('key-v1');
  });

  describe('spec.rollover.delay', () => {
    const versions = () => [
      { version: 'v1', der: good(81).der },
      { version: 'v2', der: good(82).der },
    ];
    const staged = (
      status: CertificateStatus,
      annotations?: Record<string, string>,
    ): Certificate => {
      const c = certificate({ rollover: { delay: '1h' } }, status);
      return annotations ? { ...c, metadata: { ...c.metadata, annotations } } : c;
    };

    it('keeps the last good version synced while a valid new one waits, status.pending showing it, with a Normal RolloverScheduled', async () => {
      const r = run(staged(syncedAt('v1', 'OLD')), versions());
      const result = await r.result;
      expect(r.synced.map((x) => x.key?.version)).toEqual(['key-v1']);
      const s = r.status();
      expect(s?.pending).toMatchObject({
        version: 'v2',
        seenTime: '2026-06-01T00:00:00Z',
        switchTime: '2026-06-01T01:00:00Z',
      });
      expect(s?.pending?.thumbprint).toMatch(/^[0-9A-F]{40}$/);
      expect(s?.keyVaultCertificate?.version).toBe('v1');
      expect(conditionOf(s, 'Ready')?.status).toBe('True');
      expect(conditionOf(s, 'RenewalReady')).toMatchObject({
        status: 'False',
        reason: 'RolloverScheduled',
      });
      const events = r.events.map((e) => `${e.type} ${e.reason}`);
      expect(events).toContain('Normal RolloverScheduled');
      expect(events.filter((e) => e.startsWith('Warning') || e.endsWith('Renewed'))).toEqual([]);
      expect(result?.requeueAfterMs).toBeLessThanOrEqual(120_000);
      expect(r.rollovers).toEqual([new Date('2026-06-01T01:00:00Z')]);
    });

    it('a read of the latest version failing for a moment keeps status.pending and its switch time', async () => {
      const pending = {
        version: 'v2',
        thumbprint: 'A'.repeat(40),
        seenTime: '2026-05-31T23:30:00Z',
        switchTime: '2026-06-01T00:30:00Z',
      };
      const r = run(
        staged({ ...syncedAt('v1', 'OLD'), pending }),
        versions(),
        'v2',
        {},
        {
          v2: { ok: false, reason: 'VaultUnavailable', message: '503 busy', terminal: false },
        },
      );
      await r.result.catch(() => undefined);
      expect(r.status()?.pending).toEqual(pending);
      expect(r.events.some((e) => e.reason === 'RolloverScheduled')).toBe(false);
    });

    it('a pending version is not switched early when the last good version cannot be read just now', async () => {
      const r = run(
        staged(syncedAt('v1', 'OLD')),
        versions(),
        'v2',
        {},
        {
          v1: { ok: false, reason: 'VaultUnavailable', message: '429 throttled', terminal: false },
        },
      );
      await expect(r.result).rejects.toThrow(/429 throttled/);
      expect(r.synced).toEqual([]);
      expect(r.status()).toBeUndefined();
    });

    it('switches at the switch time counted from when it was first seen, and drops status.pending', async () => {
      const status: CertificateStatus = {
        ...syncedAt('v1', 'OLD'),
        pending: {
          version: 'v2',
          seenTime: '2026-05-31T22:59:00Z',
          switchTime: '2026-05-31T23:59:00Z',
        },
      };
      const r = run(staged(status), versions());
      await r.result;
      expect(r.synced.map((x) => x.key?.version)).toEqual(['key-v2']);
      expect(r.status()?.pending ?? undefined).toBeUndefined(); // the patch removes it
      expect(r.status()?.keyVaultCertificate?.version).toBe('v2');
      expect(r.events.map((e) => e.reason)).toContain('Renewed');
      expect(r.rollovers).toEqual([undefined]);
    });

    it('switches at once with the rollover-now annotation', async () => {
      const r = run(
        staged(syncedAt('v1', 'OLD'), { 'integration.b2b.dev/rollover-now': 'yes' }),
        versions(),
      );
      await r.result;
      expect(r.synced.map((x) => x.key?.version)).toEqual(['key-v2']);
      expect(r.status()?.pending ?? undefined).toBeUndefined();
    });
  });
});

describe('CertificateReconciler with a store that keeps earlier entries (in use by agreements)', () => {
  it("comes back at the kept entries' recheck, not only at the recheck interval or the poll", async () => {
    const kept = {
      ref: 'azure:/subscriptions/s/resourceGroups/r/providers/Microsoft.Logic/integrationAccounts/ia/certificates/old',
      reason: 'CertificateInUse',
      message: 'used by the agreement fabrikam-as2',
    };
    const r = run(certificate(), [{ version: 'v1', der: good(81).der }], 'v1', {
      kept: [kept],
      keptRecheckMs: 60_000,
    });
    expect((await r.result)?.requeueAfterMs).toBe(60_000);
    const without = run(certificate(), [{ version: 'v1', der: good(81).der }]);
    expect((await without.result)?.requeueAfterMs).toBe(120_000); // the poll interval
  });
});
