// A certificate's place in its account's quota: who keeps a slot when there are too many.
import { describe, expect, it } from 'vitest';
import type { Certificate, IntegrationAccount } from '../../../src/api/types.ts';
import {
  quotaPlace,
  quotaPosition,
  type Lookups,
} from '../../../src/controllers/certificate/gather.ts';

const basic: IntegrationAccount = {
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'IntegrationAccount',
  metadata: { name: 'contoso', namespace: 'b2b' },
  spec: { sku: 'Basic' },
};

const at = (name: string, created: string, synced = false): Certificate => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name, namespace: 'b2b', uid: `uid-${name}`, creationTimestamp: new Date(created) },
  spec: { integrationAccount: { name: 'contoso' }, type: 'Public', certificate: { inline: 'x' } },
  ...(synced ? { status: { store: { ref: `${name}-b2bcert`, syncedTime: created } } } : {}),
});

const ranks = (siblings: Certificate[]) =>
  Object.fromEntries(
    siblings.map((c) => [c.metadata.name, quotaPosition(c, basic, siblings).rank]),
  );

describe('quotaPosition', () => {
  it('keeps a synced certificate in its slot against a newcomer created in the same second whose name sorts first', () => {
    const second = '2026-01-01T00:00:00Z';
    const siblings = [at('zeta', second, true), at('omega', second, true), at('alpha', second)];
    expect(ranks(siblings)).toEqual({ omega: 0, zeta: 1, alpha: 2 });
  });

  it('keeps a synced certificate in its slot even against an older one that never synced', () => {
    const siblings = [
      at('old', '2026-01-01T00:00:00Z'),
      at('held-1', '2026-01-02T00:00:00Z', true),
      at('held-2', '2026-01-03T00:00:00Z', true),
    ];
    expect(ranks(siblings)).toEqual({ 'held-1': 0, 'held-2': 1, old: 2 });
  });

  it('orders the rest by creation time, then name, the same on every run', () => {
    const siblings = [
      at('c', '2026-01-02T00:00:00Z'),
      at('b', '2026-01-01T00:00:00Z'),
      at('a', '2026-01-01T00:00:00Z'),
    ];
    expect(ranks(siblings)).toEqual({ a: 0, b: 1, c: 2 });
    expect(ranks([...siblings].reverse())).toEqual({ a: 0, b: 1, c: 2 });
  });
});

describe('quotaPosition of certificates that can never be stored', () => {
  const stalled = (c: Certificate, reason: string): Certificate => ({
    ...c,
    metadata: { ...c.metadata, generation: 1 },
    status: {
      observedGeneration: 1,
      conditions: [
        { type: 'Ready', status: 'False', reason, message: '', lastTransitionTime: '' },
        { type: 'Stalled', status: 'True', reason, message: '', lastTransitionTime: '' },
      ],
    },
  });
  it('gives no place to an expired or invalid certificate, but keeps one for QuotaExceeded', () => {
    const siblings = [
      stalled(at('expired', '2026-01-01T00:00:00Z'), 'CertificateExpired'),
      stalled(at('invalid', '2026-01-02T00:00:00Z'), 'InvalidCertificate'),
      at('good', '2026-01-03T00:00:00Z'),
      at('newer', '2026-01-04T00:00:00Z'),
    ];
    expect(quotaPosition(siblings[2]!, basic, siblings).rank).toBe(0);
    expect(quotaPosition(siblings[3]!, basic, siblings).rank).toBeLessThan(2);
    const waiting = [
      stalled(at('over', '2026-01-01T00:00:00Z'), 'QuotaExceeded'),
      at('b', '2026-01-02T00:00:00Z'),
      at('c', '2026-01-03T00:00:00Z'),
    ];
    expect(quotaPosition(waiting[2]!, basic, waiting).rank).toBe(2);
  });

  it('keeps the place of an expired certificate whose last good version is still in the store', () => {
    // Its entry takes a real place in the account (Basic: 2), so a newcomer must wait.
    const expired = stalled(at('expired', '2026-01-01T00:00:00Z', true), 'CertificateExpired');
    expired.status = { ...expired.status, store: { ref: 'expired-b2bcert', syncedTime: '' } };
    const siblings = [expired, at('good', '2026-01-02T00:00:00Z', true), at('new', '2026-01-03')];
    expect(quotaPosition(siblings[2]!, basic, siblings).rank).toBe(2);
  });
});

describe('quotaPlace', () => {
  const lookups = (siblings: Certificate[], counted = siblings.length) => {
    const listed: string[] = [];
    const l: Lookups = {
      account: () => basic,
      certificatesOf: () => {
        listed.push('listed');
        return siblings;
      },
      certificateCount: () => counted,
      secretExists: () => false,
      configMapExists: () => false,
    };
    return { l, listed };
  };

  it('lists the account’s certificates only when there may be more than the quota', () => {
    const two = [at('a', '2026-01-01T00:00:00Z'), at('b', '2026-01-02T00:00:00Z')];
    const under = lookups(two);
    expect(quotaPlace(two[1]!, basic, under.l)).toEqual({ rank: 0, quota: 2 });
    expect(under.listed).toEqual([]);
    const three = [...two, at('c', '2026-01-03T00:00:00Z')];
    const over = lookups(three);
    expect(quotaPlace(three[2]!, basic, over.l)).toEqual({ rank: 2, quota: 2 });
    expect(over.listed).toEqual(['listed']);
  });

  it('counts one being deleted as an upper bound, and ranks among those not being deleted', () => {
    const two = [at('a', '2026-01-01T00:00:00Z'), at('b', '2026-01-02T00:00:00Z')];
    // Three counted (one is being deleted and not listed): listed, and b keeps its slot.
    const { l, listed } = lookups(two, 3);
    expect(quotaPlace(two[1]!, basic, l)).toEqual({ rank: 0, quota: 2 });
    expect(listed).toEqual(['listed']);
  });
});
