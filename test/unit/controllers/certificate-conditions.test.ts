// Each condition builder of the certificate status as plain data: an evaluation, a key verdict
// and a store outcome in; the conditions, fields, retry decision and events out.
import { describe, expect, it } from 'vitest';
import type { Certificate, CertificateStatus } from '../../../src/api/types.ts';
import type { CertificateVerdict, ExpiryStatus } from '../../../src/certificates/checks.ts';
import { inspectCertificate } from '../../../src/certificates/inspect.ts';
import type { Evaluation, Failure } from '../../../src/controllers/certificate/evaluate.ts';
import {
  buildCertificateStatus,
  transitionEvents,
  type StatusInputs,
  type StoreOutcome,
} from '../../../src/controllers/certificate/status.ts';
import type { KeyVerdict } from '../../../src/vaults/verifier.ts';
import { privateUsable } from '../../support/certs.ts';

const now = new Date('2026-06-01T00:00:00Z');
const info = inspectCertificate(
  privateUsable({
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
  }).der,
);

function certificate(
  type: 'Public' | 'Private' = 'Private',
  status?: CertificateStatus,
  generation: number | null = 3,
): Certificate {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: {
      name: 'fabrikam',
      namespace: 'b2b',
      ...(generation === null ? {} : { generation }),
    },
    spec: {
      integrationAccount: { name: 'contoso' },
      type,
      certificate: { inline: info.pem },
      ...(type === 'Private' ? { key: { vault: 'main', name: 'fabrikam-signing' } } : {}),
    },
    ...(status ? { status } : {}),
  };
}

const okVerdict: CertificateVerdict = { ok: true, certificate: info, ignoredCertificates: 0 };
const notExpiring: ExpiryStatus = {
  expiring: false,
  message: 'the certificate expires at 2027-01-01T00:00:00Z',
  nextTransition: undefined,
};

function evaluation(over: Partial<Evaluation> = {}): Evaluation {
  return {
    failure: undefined,
    verdict: okVerdict,
    info,
    expiry: notExpiring,
    vault: undefined,
    ...over,
  };
}

const failure = (over: Partial<Failure> & Pick<Failure, 'reason' | 'condition'>): Failure => ({
  message: `${over.reason} happened`,
  terminal: true,
  ...over,
});

const granted: KeyVerdict = {
  ok: true,
  vaultUrl: 'https://kv.vault.azure.net',
  name: 'fabrikam-signing',
  version: 'v1',
  grants: ['list', 'get', 'decrypt', 'sign'],
  verifiedAt: now,
};
const denied = (terminal: boolean, retryAfterMs?: number): KeyVerdict => ({
  ok: false,
  reason: terminal ? 'AccessDenied' : 'VaultUnavailable',
  message: terminal ? 'grant decrypt' : 'vault down',
  terminal,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

const synced: StoreOutcome = { kind: 'synced', ref: 'fabrikam-b2bcert', written: true };

function build(over: Partial<StatusInputs> = {}) {
  return buildCertificateStatus({
    certificate: certificate(),
    evaluation: evaluation(),
    keyVerdict: granted,
    store: synced,
    storeRef: 'fabrikam-b2bcert',
    now,
    ...over,
  });
}

const condition = (r: ReturnType<typeof build>, type: string) => {
  const c = r.status.conditions?.find((x) => x.type === type);
  return c && { status: c.status, reason: c.reason, message: c.message };
};
const types = (r: ReturnType<typeof build>) =>
  r.status.conditions?.map((c) => `${c.type}=${c.status}:${c.reason}`);

describe('Ready', () => {
  it('is True when everything passed, naming the Secret', () => {
    const r = build();
    expect(condition(r, 'Ready')).toEqual({
      status: 'True',
      reason: 'Ready',
      message: 'the certificate is valid and synced to Secret fabrikam-b2bcert',
    });
    expect(r.failure).toBeUndefined();
    expect(r.retry).toBe(false);
    expect(r.retryAfterMs).toBeUndefined();
    expect(types(r)).toEqual([
      'Ready=True:Ready',
      'CertificateValid=True:Valid',
      'KeyVaultAccessGranted=True:AccessGranted',
      'Synced=True:Synced',
      'Expiring=False:NotExpiring',
    ]);
  });

  it('is True without a Secret name when the store was skipped', () => {
    expect(condition(build({ store: { kind: 'skipped' } }), 'Ready')).toEqual({
      status: 'True',
      reason: 'Ready',
      message: 'the certificate is valid',
    });
  });

  it('carries the check failure first, ahead of key verdict and store', () => {
    const checkFailure = failure({ reason: 'QuotaExceeded', condition: 'Ready' });
    const r = build({
      evaluation: evaluation({ failure: checkFailure }),
      keyVerdict: denied(true),
      store: { kind: 'failed', reason: 'StoreConflict', message: 'taken' },
    });
    expect(r.failure).toEqual(checkFailure);
    expect(condition(r, 'Ready')).toEqual({
      status: 'False',
      reason: 'QuotaExceeded',
      message: 'QuotaExceeded happened',
    });
  });

  it('carries a failed key verdict ahead of the store, on KeyVaultAccessGranted', () => {
    const r = build({
      keyVerdict: denied(true),
      store: { kind: 'failed', reason: 'StoreWriteFailed', message: 'boom' },
    });
    expect(r.failure).toEqual({
      reason: 'AccessDenied',
      message: 'grant decrypt',
      terminal: true,
      condition: 'KeyVaultAccessGranted',
    });
    const transient = build({ keyVerdict: denied(false) });
    expect(transient.failure).toMatchObject({ reason: 'VaultUnavailable', terminal: false });
  });

  it.each([
    ['StoreWriteFailed', false],
    ['StoreConflict', true],
  ] as const)('carries a store failure %s (terminal: %s) on Ready', (reason, terminal) => {
    const r = build({ store: { kind: 'failed', reason, message: 'store says no' } });
    expect(r.failure).toEqual({ reason, message: 'store says no', terminal, condition: 'Ready' });
    expect(condition(r, 'Ready')).toEqual({ status: 'False', reason, message: 'store says no' });
  });
});

describe('CertificateValid', () => {
  it('is True for a valid certificate, with the key and the end date', () => {
    expect(condition(build(), 'CertificateValid')).toEqual({
      status: 'True',
      reason: 'Valid',
      message: 'valid X.509 certificate (RSA 2048), valid until 2027-01-01T00:00:00Z',
    });
  });

  it('counts the ignored bundle certificates', () => {
    const bundle = evaluation({ verdict: { ...okVerdict, ignoredCertificates: 2 } });
    expect(condition(build({ evaluation: bundle }), 'CertificateValid')?.message).toBe(
      'valid X.509 certificate (RSA 2048), valid until 2027-01-01T00:00:00Z; 2 further certificate(s) in the bundle ignored',
    );
  });

  it('is False with the failure when a CertificateValid row failed', () => {
    const f = failure({ reason: 'CertificateSourceNotFound', condition: 'CertificateValid' });
    expect(
      condition(
        build({ evaluation: evaluation({ failure: f, verdict: undefined }) }),
        'CertificateValid',
      ),
    ).toEqual({ status: 'False', reason: 'CertificateSourceNotFound', message: f.message });
  });

  it('is False with the verdict when an earlier row failed on another condition', () => {
    const verdict: CertificateVerdict = {
      ok: false,
      failure: { reason: 'CertificateExpired', message: 'expired', terminal: true },
      certificate: info,
    };
    const r = build({
      evaluation: evaluation({
        verdict,
        failure: failure({ reason: 'QuotaExceeded', condition: 'Ready' }),
      }),
    });
    expect(condition(r, 'CertificateValid')).toEqual({
      status: 'False',
      reason: 'CertificateExpired',
      message: 'expired',
    });
  });

  it('is Unknown before the certificate was checked', () => {
    const r = build({
      evaluation: evaluation({
        verdict: undefined,
        info: undefined,
        expiry: undefined,
        failure: failure({
          reason: 'IntegrationAccountNotFound',
          condition: 'Ready',
          terminal: false,
          waiting: true,
        }),
      }),
      keyVerdict: undefined,
      store: { kind: 'skipped' },
    });
    expect(condition(r, 'CertificateValid')).toEqual({
      status: 'Unknown',
      reason: 'Progressing',
      message: 'the certificate has not been checked yet',
    });
    expect(condition(r, 'Expiring')).toBeUndefined();
    expect(r.status.thumbprint).toBeUndefined();
  });
});

describe('KeyVaultAccessGranted', () => {
  it('is absent for a Public certificate', () => {
    const r = build({ certificate: certificate('Public'), keyVerdict: undefined });
    expect(condition(r, 'KeyVaultAccessGranted')).toBeUndefined();
  });

  it('is True naming the verified grants, key, version and vault', () => {
    expect(condition(build(), 'KeyVaultAccessGranted')).toEqual({
      status: 'True',
      reason: 'AccessGranted',
      message:
        'list, get, decrypt, sign verified on key fabrikam-signing version v1 in https://kv.vault.azure.net',
    });
  });

  it('is False with a vault-configuration failure of the checks', () => {
    const f = failure({ reason: 'VaultHostNotAllowed', condition: 'KeyVaultAccessGranted' });
    const r = build({ evaluation: evaluation({ failure: f }), keyVerdict: undefined });
    expect(condition(r, 'KeyVaultAccessGranted')).toEqual({
      status: 'False',
      reason: 'VaultHostNotAllowed',
      message: f.message,
    });
  });

  it('is False for a terminal key verdict and Unknown for a transient one', () => {
    expect(condition(build({ keyVerdict: denied(true) }), 'KeyVaultAccessGranted')).toEqual({
      status: 'False',
      reason: 'AccessDenied',
      message: 'grant decrypt',
    });
    expect(condition(build({ keyVerdict: denied(false) }), 'KeyVaultAccessGranted')).toEqual({
      status: 'Unknown',
      reason: 'VaultUnavailable',
      message: 'vault down',
    });
  });

  it('is Unknown while the key waits for the certificate checks', () => {
    const f = failure({ reason: 'CertificateExpired', condition: 'CertificateValid' });
    const r = build({ evaluation: evaluation({ failure: f }), keyVerdict: undefined });
    expect(condition(r, 'KeyVaultAccessGranted')).toEqual({
      status: 'Unknown',
      reason: 'Progressing',
      message: 'the key is verified once the certificate checks pass',
    });
  });
});

describe('Synced', () => {
  it('is True naming the Secret', () => {
    expect(condition(build(), 'Synced')).toEqual({
      status: 'True',
      reason: 'Synced',
      message: 'Secret fabrikam-b2bcert holds the certificate',
    });
  });

  it('is False with the store failure', () => {
    const r = build({ store: { kind: 'failed', reason: 'StoreConflict', message: 'taken' } });
    expect(condition(r, 'Synced')).toEqual({
      status: 'False',
      reason: 'StoreConflict',
      message: 'taken',
    });
  });

  it('says why not and what the store keeps when skipped', () => {
    const f = failure({ reason: 'QuotaExceeded', condition: 'Ready', message: 'over quota' });
    const first = build({ evaluation: evaluation({ failure: f }), store: { kind: 'skipped' } });
    expect(condition(first, 'Synced')).toEqual({
      status: 'False',
      reason: 'QuotaExceeded',
      message: 'not synced: over quota; nothing has been stored yet',
    });
    const stored = certificate('Private', {
      store: { ref: 'fabrikam-b2bcert', syncedTime: '2026-05-01T00:00:00Z' },
    });
    const kept = build({
      certificate: stored,
      evaluation: evaluation({ failure: f }),
      store: { kind: 'skipped' },
      storeRef: 'the-ref',
    });
    expect(condition(kept, 'Synced')?.message).toBe(
      'not synced: over quota; the store keeps the last good version (the-ref)',
    );
    const quiet = build({ store: { kind: 'skipped' } });
    expect(condition(quiet, 'Synced')).toEqual({
      status: 'False',
      reason: 'Progressing',
      message: 'not synced: checks in progress; nothing has been stored yet',
    });
  });
});

describe('Expiring, Reconciling and Stalled', () => {
  it('reports Expiring True or False with the expiry message', () => {
    const expiring: ExpiryStatus = {
      expiring: true,
      message: 'expires soon',
      nextTransition: undefined,
    };
    expect(condition(build({ evaluation: evaluation({ expiry: expiring }) }), 'Expiring')).toEqual({
      status: 'True',
      reason: 'ExpiresSoon',
      message: 'expires soon',
    });
    expect(condition(build(), 'Expiring')).toEqual({
      status: 'False',
      reason: 'NotExpiring',
      message: 'the certificate expires at 2027-01-01T00:00:00Z',
    });
  });

  it('reconciles and retries a transient failure, without Stalled', () => {
    const r = build({ keyVerdict: denied(false, 5000) });
    expect(condition(r, 'Reconciling')).toEqual({
      status: 'True',
      reason: 'VaultUnavailable',
      message: 'vault down',
    });
    expect(condition(r, 'Stalled')).toBeUndefined();
    expect(r.retry).toBe(true);
    expect(r.retryAfterMs).toBe(5000);
  });

  it('reconciles without a retry while waiting for an object', () => {
    const f = failure({
      reason: 'IntegrationAccountNotReady',
      condition: 'Ready',
      terminal: false,
      waiting: true,
    });
    const r = build({ evaluation: evaluation({ failure: f }), keyVerdict: undefined });
    expect(condition(r, 'Reconciling')?.reason).toBe('IntegrationAccountNotReady');
    expect(r.retry).toBe(false);
    expect(r.retryAfterMs).toBeUndefined();
  });

  it('stalls on a terminal failure, without Reconciling or a retry', () => {
    const r = build({ keyVerdict: denied(true) });
    expect(condition(r, 'Stalled')).toEqual({
      status: 'True',
      reason: 'AccessDenied',
      message: 'grant decrypt',
    });
    expect(condition(r, 'Reconciling')).toBeUndefined();
    expect(r.retry).toBe(false);
    expect(types(r)?.slice(-2)).toEqual([
      'Expiring=False:NotExpiring',
      'Stalled=True:AccessDenied',
    ]);
  });
});

describe('status fields', () => {
  it('stamps the generation on the status and every condition', () => {
    const r = build();
    expect(r.status.observedGeneration).toBe(3);
    expect(r.status.conditions?.every((c) => c.observedGeneration === 3)).toBe(true);
    expect(r.status.conditions?.every((c) => c.lastTransitionTime === '2026-06-01T00:00:00Z')).toBe(
      true,
    );
    expect(
      build({ certificate: certificate('Private', undefined, null) }).status.observedGeneration,
    ).toBe(0);
  });

  it('copies the inspection fields, in API.md formats', () => {
    const { status } = build();
    expect(status).toMatchObject({
      thumbprint: info.thumbprint,
      sha256Fingerprint: info.sha256Fingerprint,
      subject: 'CN=test.example',
      issuer: 'CN=test.example',
      serialNumber: '012345',
      notBefore: '2026-01-01T00:00:00Z',
      notAfter: '2027-01-01T00:00:00Z',
      keyUsage: ['digitalSignature', 'keyEncipherment', 'dataEncipherment'],
      extendedKeyUsage: [],
      publicKey: { algorithm: 'RSA', size: 2048 },
    });
    const noKeyUsage = build({
      evaluation: evaluation({ info: { ...info, keyUsage: undefined } }),
    });
    expect(noKeyUsage.status.keyUsage).toEqual([]);
  });

  it('records the verified key and its verification time', () => {
    expect(build().status.key).toEqual({
      vaultUrl: 'https://kv.vault.azure.net',
      name: 'fabrikam-signing',
      version: 'v1',
      grants: ['list', 'get', 'decrypt', 'sign'],
      lastVerifiedTime: '2026-06-01T00:00:00Z',
    });
  });

  describe('lastVerifiedTime', () => {
    const previousKey = {
      vaultUrl: 'https://kv.vault.azure.net',
      name: 'fabrikam-signing',
      version: 'v1',
      grants: ['list', 'get', 'decrypt', 'sign'],
      lastVerifiedTime: '2026-05-31T23:30:00Z',
    };
    const verifiedTime = (
      previous: Partial<typeof previousKey> | undefined,
      recheckIntervalMs?: number,
      verifiedAt = now,
    ) =>
      build({
        certificate: certificate(
          'Private',
          previous === undefined ? undefined : { key: { ...previousKey, ...previous } },
        ),
        keyVerdict: { ...granted, verifiedAt },
        ...(recheckIntervalMs === undefined ? {} : { recheckIntervalMs }),
      }).status.key?.lastVerifiedTime;

    it.each([
      ['no previous key', undefined, undefined, '2026-06-01T00:00:00Z'],
      ['the same key, 30 min old, default 1 h interval', {}, undefined, '2026-05-31T23:30:00Z'],
      [
        'a previous key without a time',
        { lastVerifiedTime: undefined },
        undefined,
        '2026-06-01T00:00:00Z',
      ],
      [
        'another vault',
        { vaultUrl: 'https://other.vault.azure.net' },
        undefined,
        '2026-06-01T00:00:00Z',
      ],
      ['another key name', { name: 'other' }, undefined, '2026-06-01T00:00:00Z'],
      ['another version', { version: 'v0' }, undefined, '2026-06-01T00:00:00Z'],
      ['other grants', { grants: ['list', 'get'] }, undefined, '2026-06-01T00:00:00Z'],
      ['30 min old with a 30 min interval', {}, 1_800_000, '2026-06-01T00:00:00Z'],
      ['30 min old with a 30 min + 1 ms interval', {}, 1_800_001, '2026-05-31T23:30:00Z'],
      [
        '61 min old, default interval',
        { lastVerifiedTime: '2026-05-31T22:59:00Z' },
        undefined,
        '2026-06-01T00:00:00Z',
      ],
      [
        'a time in the future',
        { lastVerifiedTime: '2026-06-01T00:00:01Z' },
        undefined,
        '2026-06-01T00:00:00Z',
      ],
      [
        'the very same moment',
        { lastVerifiedTime: '2026-06-01T00:00:00Z' },
        1,
        '2026-06-01T00:00:00Z',
      ],
    ])('%s', (_, previous, interval, expected) => {
      expect(verifiedTime(previous, interval)).toBe(expected);
    });

    it('keeps an equal time from the previous status (age 0 is fresh)', () => {
      expect(
        verifiedTime(
          { lastVerifiedTime: '2026-05-31T23:30:00Z' },
          1,
          new Date('2026-05-31T23:30:00Z'),
        ),
      ).toBe('2026-05-31T23:30:00Z');
    });
  });

  it('keeps the previous key of a Private certificate without a fresh verdict, never of a Public one', () => {
    const key = {
      vaultUrl: 'v',
      name: 'n',
      version: '1',
      grants: [],
      lastVerifiedTime: '2026-01-01T00:00:00Z',
    };
    expect(
      build({ certificate: certificate('Private', { key }), keyVerdict: undefined }).status.key,
    ).toEqual(key);
    expect(
      build({ certificate: certificate('Private', { key }), keyVerdict: denied(true) }).status.key,
    ).toEqual(key);
    expect(
      build({ certificate: certificate('Public', { key }), keyVerdict: undefined }).status.key,
    ).toBeUndefined();
    expect(build({ keyVerdict: undefined }).status.key).toBeUndefined();
  });

  describe('store', () => {
    const previousStore = { ref: 'fabrikam-b2bcert', syncedTime: '2026-05-01T00:00:00Z' };
    const withPrevious = certificate('Private', { store: previousStore });
    it.each([
      [
        'a write, no previous',
        certificate(),
        synced,
        { ref: 'fabrikam-b2bcert', syncedTime: '2026-06-01T00:00:00Z' },
      ],
      [
        'a write over a previous sync',
        withPrevious,
        synced,
        { ref: 'fabrikam-b2bcert', syncedTime: '2026-06-01T00:00:00Z' },
      ],
      ['no write, previous kept', withPrevious, { ...synced, written: false }, previousStore],
      [
        'no write, no previous',
        certificate(),
        { ...synced, written: false },
        { ref: 'fabrikam-b2bcert', syncedTime: '2026-06-01T00:00:00Z' },
      ],
      ['skipped, previous kept', withPrevious, { kind: 'skipped' }, previousStore],
      [
        'failed, previous kept',
        withPrevious,
        { kind: 'failed', reason: 'StoreWriteFailed', message: 'x' },
        previousStore,
      ],
      ['skipped, nothing stored', certificate(), { kind: 'skipped' }, undefined],
    ] as [string, Certificate, StoreOutcome, unknown][])('%s', (_, c, store, expected) => {
      expect(build({ certificate: c, store }).status.store).toEqual(expected);
    });
  });
});

describe('transitionEvents', () => {
  const ready = build().status;
  const quota = build({
    evaluation: evaluation({
      failure: failure({ reason: 'QuotaExceeded', condition: 'Ready', message: 'over' }),
    }),
    store: { kind: 'skipped' },
  }).status;
  const conflict = build({
    store: { kind: 'failed', reason: 'StoreConflict', message: 'taken' },
  }).status;
  const expiring = build({
    evaluation: evaluation({
      expiry: { expiring: true, message: 'expires soon', nextTransition: undefined },
    }),
  }).status;
  const events = (
    before: CertificateStatus | undefined,
    after: CertificateStatus,
    store: StoreOutcome = { kind: 'skipped' },
  ) => transitionEvents(before, after, store);

  it('announces a write to the store with the thumbprint', () => {
    expect(events(undefined, ready, synced)).toEqual([
      {
        type: 'Normal',
        reason: 'Synced',
        message: `certificate ${info.thumbprint} synced to Secret fabrikam-b2bcert`,
      },
    ]);
    expect(events(ready, ready, { ...synced, written: false })).toEqual([]);
    const noThumbprint = { ...ready, thumbprint: undefined };
    expect(events(ready, noThumbprint, synced)[0]?.message).toBe(
      'certificate  synced to Secret fabrikam-b2bcert',
    );
  });

  it('names the agreements that use a replaced certificate in its Synced event', () => {
    const uses = [
      {
        agreement: 'fabrikam-as2',
        type: 'AS2',
        direction: 'send' as const,
        role: 'signing' as const,
      },
    ];
    const usedStore: StoreOutcome = { ...synced, usage: { uses } };
    const renewed = { ...ready, thumbprint: 'NEWTHUMB' };
    expect(events(ready, renewed, usedStore)[0]?.message).toBe(
      'certificate NEWTHUMB synced to Secret fabrikam-b2bcert; the agreements fabrikam-as2 (AS2, send signing) now use it: their partners need the new public certificate',
    );
    // A first write is no replacement; a replacement nobody uses names none.
    expect(events(undefined, ready, usedStore)[0]?.message).not.toContain('agreements');
    expect(events(ready, renewed, synced)[0]?.message).not.toContain('agreements');
  });

  it('warns once per new failure reason, not again for the same one', () => {
    expect(events(ready, quota)).toEqual([
      { type: 'Warning', reason: 'QuotaExceeded', message: 'over' },
    ]);
    expect(events(undefined, quota)).toEqual([
      { type: 'Warning', reason: 'QuotaExceeded', message: 'over' },
    ]);
    expect(events(quota, quota)).toEqual([]);
    expect(events(quota, conflict)).toEqual([
      { type: 'Warning', reason: 'StoreConflict', message: 'taken' },
    ]);
    expect(events(quota, ready)).toEqual([]);
  });

  it('warns when Ready goes from False to Unknown-like states with the same reason', () => {
    const unknownReady: CertificateStatus = {
      ...quota,
      conditions: quota.conditions?.map((c) =>
        c.type === 'Ready' ? { ...c, status: 'Unknown' } : c,
      ),
    };
    expect(events(quota, unknownReady)).toEqual([
      { type: 'Warning', reason: 'QuotaExceeded', message: 'over' },
    ]);
  });

  it('warns of expiry once, when Expiring turns True while Ready', () => {
    expect(events(ready, expiring)).toEqual([
      { type: 'Warning', reason: 'ExpiresSoon', message: 'expires soon' },
    ]);
    expect(events(undefined, expiring)).toEqual([
      { type: 'Warning', reason: 'ExpiresSoon', message: 'expires soon' },
    ]);
    expect(events(expiring, expiring)).toEqual([]);
    const expiringNotReady = build({
      evaluation: evaluation({
        expiry: { expiring: true, message: 'expires soon', nextTransition: undefined },
        failure: failure({ reason: 'QuotaExceeded', condition: 'Ready', message: 'over' }),
      }),
    }).status;
    expect(events(quota, expiringNotReady)).toEqual([]);
    expect(events(ready, { ...ready, conditions: [] })).toEqual([]);
    const expiringOnly = expiring.conditions?.filter((c) => c.type === 'Expiring');
    expect(events(ready, { ...expiring, conditions: expiringOnly })).toEqual([]);
  });
});
