// Which agreements use which certificates (pure), and status.azure as the status shows it.
import { describe, expect, it } from 'vitest';
import type { ArmRequests } from '../../../src/stores/azure/arm-requests.ts';
import type { AzureClients } from '../../../src/stores/azure/clients.ts';
import {
  AgreementUsage,
  describeUses,
  usageIndex,
  usesOf,
  type ListedAgreement,
} from '../../../src/stores/azure/agreements.ts';
import { azureUsage, inUseStatus } from '../../../src/controllers/certificate/status.ts';
import type { Certificate } from '../../../src/api/types.ts';

const as2 = (
  name: string,
  send: { signing?: string; encryption?: string },
  receive: { signing?: string; encryption?: string } = {},
): ListedAgreement => ({
  name,
  agreementType: 'AS2',
  content: {
    aS2: {
      sendAgreement: {
        protocolSettings: {
          securitySettings: {
            signingCertificateName: send.signing,
            encryptionCertificateName: send.encryption,
          },
        },
      },
      receiveAgreement: {
        protocolSettings: {
          securitySettings: {
            signingCertificateName: receive.signing,
            encryptionCertificateName: receive.encryption,
          },
        },
      },
    },
  },
});

describe('usageIndex', () => {
  it('names each use: agreement, type, direction and role, agreements by name', () => {
    const index = usageIndex([
      as2('zeta', { signing: 'contoso-signing' }),
      as2('alpha', { encryption: 'fabrikam-enc' }, { signing: 'Contoso-Signing' }),
      { name: 'x12-partner', agreementType: 'X12', content: {} },
    ]);
    expect(usesOf(index, 'contoso-signing')).toEqual([
      { agreement: 'alpha', type: 'AS2', direction: 'receive', role: 'signing' },
      { agreement: 'zeta', type: 'AS2', direction: 'send', role: 'signing' },
    ]);
    expect(usesOf(index, 'FABRIKAM-ENC')).toEqual([
      { agreement: 'alpha', type: 'AS2', direction: 'send', role: 'encryption' },
    ]);
    expect(usesOf(index, 'unused')).toEqual([]);
  });

  it('counts nothing for X12 and EDIFACT agreements or AS2 ones naming no certificate', () => {
    const index = usageIndex([
      { name: 'x', agreementType: 'X12', content: {} },
      { name: 'e', agreementType: 'Edifact', content: {} },
      as2('plain', {}),
    ]);
    expect(index.size).toBe(0);
  });
});

describe('status.azure', () => {
  it('keeps the first 20 uses and counts them all', () => {
    const uses = Array.from({ length: 23 }, (_, i) => ({
      agreement: `a${String(i).padStart(2, '0')}`,
      type: 'AS2',
      direction: 'send' as const,
      role: 'signing' as const,
    }));
    const status = azureUsage(uses);
    expect(status.usedBy).toHaveLength(20);
    expect(status.usedBy?.[19]?.agreement).toBe('a19');
    expect(status.usedByCount).toBe(23);
    expect(azureUsage([])).toEqual({ usedBy: [], usedByCount: 0 });
  });

  it('messages name a few agreements and how many more', () => {
    const uses = ['a', 'b', 'c'].map((agreement) => ({
      agreement,
      type: 'AS2',
      direction: 'receive' as const,
      role: 'encryption' as const,
    }));
    expect(describeUses(uses, 2)).toBe(
      'a (AS2, receive encryption), b (AS2, receive encryption) and 1 more',
    );
  });
});

describe('inUseStatus', () => {
  const certificate: Certificate = {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name: 'c', namespace: 'n', generation: 1 },
    spec: { integrationAccount: { name: 'a' }, type: 'Public', certificate: { inline: 'x' } },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: 'ok',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
        {
          type: 'Synced',
          status: 'True',
          reason: 'Synced',
          message: 'held',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
      store: { ref: '/subscriptions/s/x' },
    },
  };
  const use = { agreement: 'p', type: 'AS2', direction: 'send' as const, role: 'signing' as const };

  it('sets Ready=False and Reconciling with the reason, status.azure, and keeps the rest', () => {
    const status = inUseStatus(certificate, 'CertificateInUse', 'used by p', [use], new Date());
    const byType = new Map(status.conditions?.map((c) => [c.type, c]));
    expect(byType.get('Ready')).toMatchObject({ status: 'False', reason: 'CertificateInUse' });
    expect(byType.get('Reconciling')).toMatchObject({ status: 'True', reason: 'CertificateInUse' });
    expect(byType.get('Synced')).toMatchObject({ status: 'True', reason: 'Synced' });
    expect(status.azure).toEqual({ usedBy: [use], usedByCount: 1 });
    expect(status.store).toEqual(certificate.status?.store);
  });

  it('leaves status.azure as it was when who uses it is unknown', () => {
    const known = { ...certificate, status: { ...certificate.status, azure: { usedByCount: 0 } } };
    const status = inUseStatus(known, 'CertificateUsageUnknown', '403', undefined, new Date());
    expect(status.azure).toEqual({ usedByCount: 0 });
  });
});

describe('AgreementUsage: one list per account per interval, failures too', () => {
  const setup = (fail: () => boolean) => {
    let lists = 0;
    let now = 0;
    const requests = {
      run: (_s: string, _o: string, fn: (signal: AbortSignal | undefined) => Promise<unknown>) =>
        fn(undefined),
    } as unknown as ArmRequests;
    const clients = {
      spec: { subscriptionId: 's', resourceGroup: 'rg', name: 'ia' },
      logic: {
        integrationAccountAgreements: {
          list: () => {
            lists++;
            if (fail()) throw new Error('403 AuthorizationFailed');
            return (async function* () {
              yield await Promise.resolve(as2('partner', { signing: 'c' }));
            })();
          },
        },
      },
    } as unknown as AzureClients;
    const usage = new AgreementUsage(requests, 3_600_000, () => now);
    return {
      ask: (fresh = false) => usage.usage(clients, 'ia', fresh),
      lists: () => lists,
      advance: (ms: number) => (now += ms),
    };
  };

  it('answers the certificates of an account from one list for the interval', async () => {
    const u = setup(() => false);
    for (let i = 0; i < 100; i++) expect(usesOf(await u.ask(), 'c')).toHaveLength(1);
    expect(u.lists()).toBe(1);
    u.advance(3_600_000);
    await u.ask();
    expect(u.lists()).toBe(2);
  });

  it('a failed list is asked again after a minute, not by every certificate; a delete asks again at once', async () => {
    const u = setup(() => true);
    for (let i = 0; i < 100; i++) await expect(u.ask()).rejects.toThrow(/403/);
    expect(u.lists()).toBe(1);
    u.advance(3_000);
    await expect(u.ask(true)).rejects.toThrow(/403/); // fresh: older than 2 s
    expect(u.lists()).toBe(2);
    u.advance(61_000);
    await expect(u.ask()).rejects.toThrow(/403/);
    expect(u.lists()).toBe(3);
  });
});
