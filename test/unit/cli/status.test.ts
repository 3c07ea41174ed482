// `b2b status` as pure functions over objects: urgency order and the plain-words explanation.
import { describe, expect, it } from 'vitest';
import type { Certificate, Condition, IntegrationAccount } from '../../../src/api/types.ts';
import { explainCertificate, statusRows, statusTable } from '../../../src/cli/status.ts';

const now = new Date('2027-01-01T00:00:00Z');
const cond = (type: string, status: string, reason: string, message = reason): Condition => ({
  type,
  status: status as Condition['status'],
  reason,
  message,
  lastTransitionTime: '2026-12-01T00:00:00Z',
});

function certificate(
  name: string,
  conditions: Condition[] | undefined,
  notAfter?: string,
): Certificate {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name, namespace: 'b2b', generation: 1, uid: name },
    spec: { integrationAccount: { name: 'contoso' }, type: 'Public', certificate: { inline: 'x' } },
    status: conditions && { observedGeneration: 1, conditions, ...(notAfter ? { notAfter } : {}) },
  };
}

const account: IntegrationAccount = {
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'IntegrationAccount',
  metadata: { name: 'contoso', namespace: 'b2b', generation: 1 },
  spec: {},
  status: { observedGeneration: 1, conditions: [cond('Ready', 'True', 'Ready')] },
};

describe('b2b status', () => {
  const rows = statusRows(
    [account],
    [
      certificate('fine-late', [cond('Ready', 'True', 'Ready')], '2030-01-01T00:00:00Z'),
      certificate('fine-early', [cond('Ready', 'True', 'Ready')], '2028-01-01T00:00:00Z'),
      certificate(
        'expiring',
        [cond('Ready', 'True', 'Ready'), cond('Expiring', 'True', 'ExpiresSoon')],
        '2027-01-10T00:00:00Z',
      ),
      certificate('waiting', [
        cond('Ready', 'False', 'CertificateSourceNotFound'),
        cond('Reconciling', 'True', 'CertificateSourceNotFound'),
      ]),
      certificate(
        'stalled',
        [
          cond('Ready', 'False', 'CertificateExpired'),
          cond('Stalled', 'True', 'CertificateExpired'),
        ],
        '2026-06-01T00:00:00Z',
      ),
      certificate('new', undefined),
    ],
  );

  it('sorts failing first, then waiting, unprocessed, expiring, and the rest by expiry', () => {
    expect(rows.map((r) => r.name)).toEqual([
      'stalled',
      'waiting',
      'new',
      'expiring',
      'fine-early',
      'fine-late',
      'contoso',
    ]);
    expect(rows.find((r) => r.name === 'new')).toMatchObject({
      ready: 'Unknown',
      reason: 'NotProcessed',
    });
  });

  it('prints a table with relative expiry', () => {
    const table = statusTable(rows, now, false);
    expect(table.split('\n')[0]).toMatch(
      /^KIND\s+NAME\s+ACCOUNT\s+TYPE\s+READY\s+REASON\s+EXPIRES\s+MESSAGE$/,
    );
    expect(table).toMatch(
      /Certificate\s+stalled\s+contoso\s+Public\s+False\s+CertificateExpired\s+2026-06-01 \(214d ago\)/,
    );
    expect(table).toMatch(/Certificate\s+expiring .* 2027-01-10 \(in 9d\)/);
  });

  it('explains a stalled certificate, its store entry and events in plain words', () => {
    const text = explainCertificate(
      certificate('stalled', [
        cond(
          'Ready',
          'False',
          'CertificateExpired',
          'the certificate expired at 2026-06-01T00:00:00Z',
        ),
        cond('Stalled', 'True', 'CertificateExpired'),
      ]),
      [
        {
          type: 'Warning',
          reason: 'CertificateExpired',
          message: 'expired',
          lastTimestamp: '2026-12-31T23:00:00Z',
        },
      ],
      {
        name: 'stalled-b2bcert',
        secret: {
          keys: ['metadata.json', 'tls.crt'],
          ownedByThisCertificate: true,
          keyReference: undefined,
        },
      },
      now,
    );
    expect(text).toContain(
      'Not Ready because CertificateExpired: the certificate expired at 2026-06-01T00:00:00Z',
    );
    expect(text).toContain(
      'only a change to the Certificate, its source or its account fixes this',
    );
    expect(text).toContain('Secret stalled-b2bcert holds metadata.json, tls.crt');
    expect(text).toMatch(/60m ago\s+Warning CertificateExpired: expired/);
  });

  it('says when the operator has not processed a certificate', () => {
    const text = explainCertificate(
      certificate('new', undefined),
      [],
      { name: 'new-b2bcert', secret: undefined },
      now,
    );
    expect(text).toContain('Not processed yet');
    expect(text).toContain('Secret new-b2bcert does not exist');
  });

  it('names the agreements that use an azure-store certificate', () => {
    const used = certificate('signing', [cond('Ready', 'True', 'Ready')]);
    used.status = {
      ...used.status,
      azure: {
        usedBy: [{ agreement: 'fabrikam-as2', type: 'AS2', direction: 'send', role: 'signing' }],
        usedByCount: 3,
      },
    };
    const text = explainCertificate(used, [], { name: 'signing', secret: undefined }, now);
    expect(text).toContain(
      'Used by 3 agreement use(s):\n  fabrikam-as2 (AS2, send signing)\n  and 2 more',
    );
    used.status = { ...used.status, azure: { usedBy: [], usedByCount: 0 } };
    expect(explainCertificate(used, [], { name: 'signing', secret: undefined }, now)).toContain(
      'Used by: no agreement of the integration account',
    );
  });
});

describe('b2b status: pending switch-overs (spec.rollover)', () => {
  const staged: Certificate = {
    ...certificate('staged', [
      cond('Ready', 'True', 'Ready'),
      cond('RenewalReady', 'False', 'RolloverScheduled', 'version 2c3d waits'),
    ]),
  };
  staged.status = {
    ...staged.status,
    pending: {
      version: '2c3d',
      thumbprint: '5E1F',
      notBefore: '2026-12-01T00:00:00Z',
      notAfter: '2027-12-01T00:00:00Z',
      seenTime: '2026-12-25T00:00:00Z',
      switchTime: '2027-01-01T00:00:00Z'.replace('01T', '08T'),
    },
  };
  const rows = statusRows(
    [account],
    [staged, certificate('other', [cond('Ready', 'True', 'Ready')])],
  );

  it('carries the pending version in the row (-o json) and lists it under the table', () => {
    expect(rows.find((r) => r.name === 'staged')?.pending).toEqual({
      version: '2c3d',
      thumbprint: '5E1F',
      switchTime: '2027-01-08T00:00:00Z',
    });
    expect(rows.find((r) => r.name === 'other')?.pending).toBeUndefined();
    const table = statusTable(rows, now, false);
    expect(table).toContain(
      'Pending switch-overs (spec.rollover):\n  b2b/staged: version 2c3d (thumbprint 5E1F) replaces the synced one at 2027-01-08T00:00:00Z (in 7d)',
    );
    expect(
      statusTable(
        rows.filter((r) => r.name !== 'staged'),
        now,
        false,
      ),
    ).not.toContain('Pending');
  });

  it('says so in status certificate NAME', () => {
    const text = explainCertificate(staged, [], { name: 'staged-b2bcert', secret: undefined }, now);
    expect(text).toContain(
      'Pending: version 2c3d (thumbprint 5E1F) replaces the synced one at 2027-01-08T00:00:00Z (in 7d)',
    );
  });
});
