import { describe, expect, it } from 'vitest';
import type { Certificate } from '../../../src/api/types.ts';
import { accountChangeLane, storeSecretLane } from '../../../src/operator/lanes.ts';

const withReady = (reason: string) =>
  ({
    metadata: { name: 'c', namespace: 'ns' },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: 'False', reason }] },
  }) as unknown as Certificate;

describe('lanes', () => {
  it('makes the deletion of the store Secret a certificate conflicted with urgent, other store Secret changes background', () => {
    expect(storeSecretLane(withReady('StoreConflict'), true)).toBe('urgent');
    expect(storeSecretLane(withReady('StoreConflict'), false)).toBe('background');
    expect(storeSecretLane(withReady('Synced'), true)).toBe('background');
  });

  it('makes an account change urgent for the certificates waiting for it', () => {
    expect(accountChangeLane(withReady('IntegrationAccountNotReady'))).toBe('urgent');
    expect(accountChangeLane(withReady('Synced'))).toBe('background');
  });
});
