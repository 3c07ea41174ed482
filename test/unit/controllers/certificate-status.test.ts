// The certificate controller's decisions as plain data: evaluation -> status.
import { describe, expect, it } from 'vitest';
import { statusPatch } from '../../../src/api/conditions.ts';
import type { Certificate, IntegrationAccount } from '../../../src/api/types.ts';
import {
  evaluateCertificate,
  type CertificateFacts,
} from '../../../src/controllers/certificate/evaluate.ts';
import { quotaPosition } from '../../../src/controllers/certificate/gather.ts';
import {
  buildCertificateStatus,
  transitionEvents,
  type StoreOutcome,
} from '../../../src/controllers/certificate/status.ts';
import { privateUsable, selfSigned } from '../../support/certs.ts';

const now = new Date('2026-06-01T00:00:00Z');
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2027-01-01T00:00:00Z');
const partner = selfSigned('ec256', { notBefore, notAfter });

const account: IntegrationAccount = {
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'IntegrationAccount',
  metadata: { name: 'contoso', namespace: 'b2b', generation: 1 },
  spec: {
    sku: 'Standard',
    keyVaults: [
      {
        name: 'main',
        azure: { vaultUrl: 'https://kv.vault.azure.net', auth: { managedIdentity: {} } },
      },
    ],
  },
  status: {
    observedGeneration: 1,
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

function cert(
  spec: Partial<Certificate['spec']> = {},
  status?: Certificate['status'],
): Certificate {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: {
      name: 'fabrikam',
      namespace: 'b2b',
      generation: 2,
      uid: 'u1',
      creationTimestamp: new Date('2026-02-01T00:00:00Z'),
    },
    spec: {
      integrationAccount: { name: 'contoso' },
      type: 'Public',
      certificate: { inline: partner.pem },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

function facts(c: Certificate, over: Partial<CertificateFacts> = {}): CertificateFacts {
  return {
    certificate: c,
    account,
    quota: { rank: 0, quota: 1000 },
    source: { found: true, data: c.spec.certificate.inline ?? '' },
    now,
    allowedVaultHosts: [],
    ...over,
  };
}

const synced: StoreOutcome = { kind: 'synced', ref: 'fabrikam-b2bcert', written: true };

function statusOf(
  c: Certificate,
  over: Partial<CertificateFacts> = {},
  store: StoreOutcome = synced,
) {
  const evaluation = evaluateCertificate(facts(c, over));
  return buildCertificateStatus({
    certificate: c,
    evaluation,
    keyVerdict: undefined,
    store: evaluation.failure ? { kind: 'skipped' } : store,
    storeRef: 'fabrikam-b2bcert',
    now,
  });
}

const types = (s: ReturnType<typeof statusOf>) =>
  s.status.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`);

describe('certificate status', () => {
  it('is Ready with every sub-condition when all checks pass and the store is written', () => {
    const r = statusOf(cert());
    expect(types(r)).toEqual([
      'Ready=True:Ready',
      'CertificateValid=True:Valid',
      'Synced=True:Synced',
      'Expiring=False:NotExpiring',
    ]);
    expect(r.status.observedGeneration).toBe(2);
    expect(r.status.store).toEqual({ ref: 'fabrikam-b2bcert', syncedTime: '2026-06-01T00:00:00Z' });
    expect(r.retry).toBe(false);
  });

  it('waits (Reconciling, no retry) for a missing account and stalls on a terminal reason', () => {
    const waiting = statusOf(cert(), { account: undefined });
    expect(types(waiting)).toContain('Reconciling=True:IntegrationAccountNotFound');
    expect(types(waiting)).not.toContain('Stalled=True:IntegrationAccountNotFound');
    expect(waiting.retry).toBe(false);
    const stalled = statusOf(cert(), { quota: { rank: 2, quota: 2 } });
    expect(types(stalled)?.[0]).toBe('Ready=False:QuotaExceeded');
    expect(types(stalled)).toContain('Stalled=True:QuotaExceeded');
    expect(types(stalled)).not.toContain('Reconciling=True:QuotaExceeded');
  });

  it('retries a failed store write and stalls on a store conflict', () => {
    const failed = statusOf(
      cert(),
      {},
      { kind: 'failed', reason: 'StoreWriteFailed', message: 'boom' },
    );
    expect(types(failed)).toEqual(
      expect.arrayContaining([
        'Ready=False:StoreWriteFailed',
        'Synced=False:StoreWriteFailed',
        'Reconciling=True:StoreWriteFailed',
      ]),
    );
    expect(failed.retry).toBe(true);
    const conflict = statusOf(
      cert(),
      {},
      { kind: 'failed', reason: 'StoreConflict', message: 'taken' },
    );
    expect(types(conflict)).toContain('Stalled=True:StoreConflict');
    expect(conflict.retry).toBe(false);
  });

  it('keeps lastTransitionTime while a status holds and keeps the last good store reference', () => {
    const first = statusOf(cert());
    const later = new Date('2026-06-02T00:00:00Z');
    const c = cert({ certificate: { inline: 'garbage' } }, first.status);
    const evaluation = evaluateCertificate({
      ...facts(c),
      now: later,
      source: { found: true, data: 'garbage' },
    });
    const r = buildCertificateStatus({
      certificate: c,
      evaluation,
      keyVerdict: undefined,
      store: { kind: 'skipped' },
      storeRef: 'fabrikam-b2bcert',
      now: later,
    });
    expect(r.status.store).toEqual(first.status.store);
    const ready = r.status.conditions?.find((x) => x.type === 'Ready');
    expect(ready?.lastTransitionTime).toBe('2026-06-02T00:00:00Z');
    const unchanged = buildCertificateStatus({
      certificate: cert({}, first.status),
      evaluation: evaluateCertificate(facts(cert())),
      keyVerdict: undefined,
      store: { ...synced, written: false },
      storeRef: 'x',
      now: later,
    });
    expect(unchanged.status).toEqual(first.status);
  });

  it('records where and how the entry now is when a move is confirmed without a write', () => {
    const first = statusOf(cert());
    const later = new Date('2026-06-02T00:00:00Z');
    const id =
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Logic/integrationAccounts/ia/certificates/fabrikam';
    const azure = { cloud: 'AzurePublic' as const, auth: { managedIdentity: {} } };
    // The new entry was written before its previous one failed to go; this time it is current.
    const moved = buildCertificateStatus({
      certificate: cert({}, first.status),
      evaluation: evaluateCertificate(facts(cert())),
      keyVerdict: undefined,
      store: { kind: 'synced', ref: id, written: false, azure },
      storeRef: 'fabrikam-b2bcert',
      now: later,
    });
    expect(moved.status.store).toEqual({ ref: id, syncedTime: '2026-06-02T00:00:00Z', azure });
    const again = buildCertificateStatus({
      certificate: cert({}, moved.status),
      evaluation: evaluateCertificate(facts(cert())),
      keyVerdict: undefined,
      store: { kind: 'synced', ref: id, written: false, azure },
      storeRef: id,
      now: new Date('2026-06-03T00:00:00Z'),
    });
    expect(again.status.store).toEqual(moved.status.store);
  });

  it('records an Azure adoption without a write in status.store.adopted until a write adds the marker, and the patch removes it', () => {
    const id =
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Logic/integrationAccounts/ia/certificates/fabrikam';
    const azure = { auth: { managedIdentity: {} } };
    const adopted = { contentHash: 'abc' };
    const onRecord: StoreOutcome = { kind: 'synced', ref: id, written: false, azure, adopted };
    const first = statusOf(cert(), {}, onRecord);
    expect(first.status.store).toEqual({
      ref: id,
      syncedTime: '2026-06-01T00:00:00Z',
      azure,
      adopted,
    });
    // Rechecks on the record: no status write.
    expect(statusOf(cert({}, first.status), {}, onRecord).status).toEqual(first.status);
    // The first write (it carries the marker) ends the record, and the merge patch says so.
    const written = statusOf(
      cert({}, first.status),
      {},
      { kind: 'synced', ref: id, written: true, azure },
    );
    expect(written.status.store).toEqual({ ref: id, syncedTime: '2026-06-01T00:00:00Z', azure });
    expect(statusPatch(first.status, written.status).store).toEqual({
      ref: id,
      syncedTime: '2026-06-01T00:00:00Z',
      azure,
      adopted: null,
    });
  });

  it('records the Secret’s resourceVersion with a store write, and never changes status for a new version alone', () => {
    const written = statusOf(cert(), {}, { ...synced, version: '41' });
    expect(written.status.store).toEqual({
      ref: 'fabrikam-b2bcert',
      syncedTime: '2026-06-01T00:00:00Z',
      resourceVersion: '41',
    });
    // Read and found current at another version (a foreign label added): no status write.
    const confirmed = statusOf(
      cert({}, written.status),
      {},
      {
        ...synced,
        written: false,
        version: '57',
      },
    );
    expect(confirmed.status).toEqual(written.status);
  });

  it('records the confirmed Secret’s resourceVersion when the status is written anyway (an upgraded certificate gets it)', () => {
    // Synced by an older version: a store reference without a resourceVersion.
    const older = { ref: 'fabrikam-b2bcert', syncedTime: '2026-05-01T00:00:00Z' };
    const upgraded = statusOf(cert({}, { store: older }), {}, { ...synced, written: false });
    const current = statusOf(
      cert({}, upgraded.status),
      {},
      { ...synced, written: false, version: '57' },
    );
    // Nothing else changed: no status write just for the version.
    expect(current.status).toEqual(upgraded.status);
    // A status write for another reason (here the spec's generation) carries it along.
    const changed = cert({}, upgraded.status);
    changed.metadata.generation = 3;
    const carried = statusOf(changed, {}, { ...synced, written: false, version: '57' });
    expect(carried.status.store).toEqual({ ...older, resourceVersion: '57' });
  });

  it('is not Expiring while a short-lived certificate is not yet valid', () => {
    const soon = selfSigned('ec256', {
      notBefore: new Date('2026-06-01T06:00:00Z'),
      notAfter: new Date('2026-06-11T00:00:00Z'),
    }).pem;
    const r = statusOf(cert({ certificate: { inline: soon } }), {
      source: { found: true, data: soon },
    });
    expect(types(r)).toEqual(
      expect.arrayContaining([
        'Ready=False:CertificateNotYetValid',
        'Expiring=False:NotExpiring',
        'Reconciling=True:CertificateNotYetValid',
      ]),
    );
  });

  it('is not Stalled while the certificate is not yet valid: time fixes it, with no backoff retry', () => {
    const later = selfSigned('ec256', {
      notBefore: new Date('2026-07-01T00:00:00Z'),
      notAfter: new Date('2027-07-01T00:00:00Z'),
    }).pem;
    const r = statusOf(cert({ certificate: { inline: later } }), {
      source: { found: true, data: later },
    });
    expect(types(r)).not.toContain('Stalled=True:CertificateNotYetValid');
    expect(types(r)).toContain('Reconciling=True:CertificateNotYetValid');
    expect(r.retry).toBe(false);
    expect(
      evaluateCertificate(facts(cert(), { source: { found: true, data: later } })).expiry
        ?.nextTransition,
    ).toEqual(new Date('2026-07-01T00:00:00Z'));
  });

  it('is not also Expiring once expired: CertificateExpired says it', () => {
    const old = selfSigned('ec256', {
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2026-05-01T00:00:00Z'),
    }).pem;
    const r = statusOf(cert({ certificate: { inline: old } }), {
      source: { found: true, data: old },
    });
    expect(types(r)).toContain('Ready=False:CertificateExpired');
    expect(types(r)).toContain('Stalled=True:CertificateExpired');
    expect(types(r)).toContain('Expiring=False:CertificateExpired');
  });

  it('waits for a new account’s first status without a Warning event', () => {
    const { status: _none, ...fresh } = account;
    void _none;
    const r = statusOf(cert(), { account: fresh });
    expect(types(r)?.[0]).toBe('Ready=False:Progressing');
    expect(types(r)).toContain('Reconciling=True:Progressing');
    expect(r.retry).toBe(false);
    expect(transitionEvents(undefined, r.status, { kind: 'skipped' })).toEqual([]);
    const notReady = statusOf(cert(), {
      account: {
        ...account,
        status: {
          observedGeneration: 1,
          conditions: [
            { type: 'Ready', status: 'False', reason: 'X', message: 'y', lastTransitionTime: '' },
          ],
        },
      },
    });
    expect(
      transitionEvents(undefined, notReady.status, { kind: 'skipped' }).map((e) => e.reason),
    ).toEqual(['IntegrationAccountNotReady']);
  });

  it('gives a certificate that can never be stored its own reason, not QuotaExceeded', () => {
    const r = statusOf(cert({ certificate: { inline: 'x' } }), {
      source: { found: true, data: 'x' },
      quota: { rank: 5, quota: 2 },
    });
    expect(types(r)?.[0]).toBe('Ready=False:InvalidCertificate');
  });

  it('checks Private vault configuration: unknown vault, then host allowed', () => {
    const pem = privateUsable({ notBefore, notAfter }).pem;
    const wrongVault = statusOf(
      cert({ type: 'Private', certificate: { inline: pem }, key: { vault: 'nope', name: 'k' } }),
      { source: { found: true, data: pem } },
    );
    expect(types(wrongVault)).toContain('KeyVaultAccessGranted=False:VaultNotConfigured');
    const evil = {
      ...account,
      spec: {
        keyVaults: [
          {
            name: 'main',
            azure: { vaultUrl: 'https://evil.example.com', auth: { managedIdentity: {} } },
          },
        ],
      },
    };
    const host = statusOf(
      cert({ type: 'Private', certificate: { inline: pem }, key: { vault: 'main', name: 'k' } }),
      { account: evil, source: { found: true, data: pem } },
    );
    expect(types(host)).toContain('KeyVaultAccessGranted=False:VaultHostNotAllowed');
  });

  it('emits Synced on a write and a Warning once per new failure reason', () => {
    const ok = statusOf(cert());
    expect(
      transitionEvents(undefined, ok.status, synced).map((e) => `${e.type} ${e.reason}`),
    ).toEqual(['Normal Synced']);
    const bad = statusOf(cert({ certificate: { inline: 'x' } }), {
      source: { found: true, data: 'x' },
    });
    expect(
      transitionEvents(ok.status, bad.status, { kind: 'skipped' }).map(
        (e) => `${e.type} ${e.reason}`,
      ),
    ).toEqual(['Warning InvalidCertificate']);
    expect(transitionEvents(bad.status, bad.status, { kind: 'skipped' })).toEqual([]);
  });
});

describe('quotaPosition', () => {
  const at = (name: string, t: string, uid = name): Certificate => ({
    ...cert(),
    metadata: { name, namespace: 'b2b', uid, creationTimestamp: new Date(t) },
  });
  it('ranks by creation time, then name, the same on every run', () => {
    const basic = { ...account, spec: { sku: 'Basic' as const } };
    const siblings = [at('c', '2026-01-02'), at('b', '2026-01-01'), at('a', '2026-01-01')];
    expect(siblings.map((c) => quotaPosition(c, basic, siblings).rank)).toEqual([2, 1, 0]);
    expect(quotaPosition(siblings[0]!, account, siblings)).toEqual({ rank: 0, quota: 1000 });
  });
});
