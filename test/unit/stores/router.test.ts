// The router decides deletions and moves by where the entry *is* (status.store.ref), not by the
// account in the cache now. Stores here only record what they are asked to do.
import { describe, expect, it } from 'vitest';
import type { Certificate, IntegrationAccount } from '../../../src/api/types.ts';
import type { AzureStore } from '../../../src/stores/azure/azure-store.ts';
import { StoreRouter } from '../../../src/stores/router.ts';
import {
  StorePrerequisiteError,
  type AzureEntryAccess,
  type Store,
  type StoreEntry,
} from '../../../src/stores/store.ts';

const ID =
  '/subscriptions/5c1e2a77-31f4-4bd4-9d53-0f8e6a4c2b10/resourceGroups/rg/providers/Microsoft.Logic/integrationAccounts/ia';
const access: AzureEntryAccess = { cloud: 'AzurePublic', auth: { managedIdentity: {} } };

const account = (store: IntegrationAccount['spec']['store']): IntegrationAccount => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'IntegrationAccount',
  metadata: { name: 'contoso', namespace: 'ns' },
  spec: { store },
});
const azureAccount = account({
  azure: {
    subscriptionId: '5c1e2a77-31f4-4bd4-9d53-0f8e6a4c2b10',
    resourceGroup: 'rg',
    name: 'ia',
    auth: { managedIdentity: {} },
  },
});

const certificate = (
  deletionPolicy: 'Delete' | 'Retain',
  store?: NonNullable<Certificate['status']>['store'],
  azureName?: string,
): Certificate => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name: 'c', namespace: 'ns', uid: 'U1' },
  spec: {
    integrationAccount: { name: 'contoso' },
    type: 'Public',
    deletionPolicy,
    certificate: { inline: 'x' },
    ...(azureName ? { azureName } : {}),
  },
  ...(store ? { status: { store } } : {}),
});

function router(current: IntegrationAccount | undefined, inUse: readonly string[] = []) {
  const calls: string[] = [];
  const kubernetes: Store = {
    type: 'kubernetes',
    refFor: () => 'c-b2bcert',
    needsFinalizer: (c) => c.spec.deletionPolicy === 'Retain',
    sync: () => {
      calls.push('kubernetes.sync');
      return Promise.resolve({ ref: 'c-b2bcert', written: true });
    },
    applyDeletionPolicy: () => Promise.resolve(),
    remove: () => (calls.push('kubernetes.remove'), Promise.resolve()),
    release: () => (calls.push('kubernetes.release'), Promise.resolve()),
    forget: () => undefined,
  };
  const azure = {
    refFor: (_a: IntegrationAccount, c: Certificate) =>
      `${ID}/certificates/${c.spec.azureName ?? c.metadata.name}`,
    accessOf: () => access,
    sync: (_a: IntegrationAccount, e: StoreEntry) => {
      calls.push('azure.sync');
      const ref = `${ID}/certificates/${e.certificate.spec.azureName ?? 'c'}`;
      return Promise.resolve({ ref, written: true, azure: access });
    },
    remove: (ref: string, how: AzureEntryAccess) => {
      calls.push(`azure.remove ${ref.split('/').pop()} ${JSON.stringify(how.auth)}`);
      return inUse.includes(ref.split('/').pop()!)
        ? Promise.reject(new StorePrerequisiteError('CertificateInUse', 'in use', false, 60_000))
        : Promise.resolve();
    },
  } as unknown as AzureStore;
  return { store: new StoreRouter(kubernetes, azure, () => current), calls };
}

const entry = (certificate: Certificate): StoreEntry => ({ certificate, pem: 'PEM', metadata: {} });

describe('StoreRouter: deletion acts on status.store.ref', () => {
  it('removes the Azure entry of a certificate whose account is gone, reached as the status recorded', async () => {
    const { store, calls } = router(undefined);
    const c = certificate('Delete', { ref: `${ID}/certificates/c`, azure: access });
    expect(store.needsFinalizer(c)).toBe(true);
    await store.remove(c);
    expect(calls).toContain('azure.remove c {"managedIdentity":{}}');
  });

  it('refuses (StoreEntryNotRemoved) when nothing says how to reach the entry', async () => {
    const { store } = router(account({ kubernetes: {} }));
    await expect(
      store.remove(certificate('Delete', { ref: `${ID}/certificates/c` })),
    ).rejects.toMatchObject({ reason: 'StoreEntryNotRemoved' });
  });
});

describe('StoreRouter: a move lets go of the previous entry after writing the new one', () => {
  it('azureName changed: writes the new entry, then removes the old one (Delete)', async () => {
    const { store, calls } = router(azureAccount);
    const c = certificate('Delete', { ref: `${ID}/certificates/c`, azure: access }, 'c2');
    await store.sync(entry(c));
    expect(calls).toEqual(['azure.sync', 'azure.remove c {"managedIdentity":{}}']);
  });

  it('azure to kubernetes: removes the old Azure entry (Delete); Retain leaves it', async () => {
    const moved = router(account({ kubernetes: {} }));
    const recorded = { ref: `${ID}/certificates/c`, azure: access };
    await moved.store.sync(entry(certificate('Delete', recorded)));
    expect(moved.calls).toEqual(['kubernetes.sync', 'azure.remove c {"managedIdentity":{}}']);
    const kept = router(account({ kubernetes: {} }));
    await kept.store.sync(entry(certificate('Retain', recorded)));
    expect(kept.calls).toEqual(['kubernetes.sync']);
  });

  it('kubernetes to azure: the old Secret is removed (Delete) or released (Retain)', async () => {
    for (const [policy, call] of [
      ['Delete', 'kubernetes.remove'],
      ['Retain', 'kubernetes.release'],
    ] as const) {
      const { store, calls } = router(azureAccount);
      await store.sync(entry(certificate(policy, { ref: 'c-b2bcert' })));
      expect(calls).toEqual(['azure.sync', call]);
    }
  });

  it('the same entry (ARM IDs compared ignoring case) is no move', async () => {
    const { store, calls } = router(azureAccount);
    await store.sync(entry(certificate('Delete', { ref: `${ID}/certificates/c`.toLowerCase() })));
    expect(calls).toEqual(['azure.sync']);
  });
});

describe('StoreRouter: status.store.kept is bounded', () => {
  const kept = Array.from({ length: 10 }, (_, i) => ({
    ref: `${ID}/certificates/old-${i}`,
    reason: 'CertificateInUse',
    message: 'in use',
  }));
  const full = (annotations?: Record<string, string>) => {
    const c = certificate('Delete', { ref: `${ID}/certificates/old-10`, kept }, 'new');
    return annotations ? { ...c, metadata: { ...c.metadata, annotations } } : c;
  };

  it('does not move a certificate while 10 earlier entries are kept and in use: nothing is written', async () => {
    const r = router(
      azureAccount,
      kept.map((k) => k.ref.split('/').pop()!),
    );
    await expect(r.store.sync(entry(full()))).rejects.toMatchObject({
      reason: 'CertificateInUse',
      message: expect.stringContaining('10 earlier entries') as unknown,
    });
    // Each kept entry was looked at again (they would go if no agreement used them).
    expect(r.calls.filter((c) => c.startsWith('azure.remove'))).toHaveLength(10);
    expect(r.calls).not.toContain('azure.sync');
  });

  it('moves once a kept entry is no longer in use: room is made first', async () => {
    const r = router(
      azureAccount,
      kept.slice(1).map((k) => k.ref.split('/').pop()!),
    );
    await r.store.sync(entry(full()));
    expect(r.calls).toContain('azure.sync');
  });

  it('syncs in place, and moves with ignore-usage (the kept entries then go)', async () => {
    const inPlace = router(azureAccount);
    const c = certificate('Delete', { ref: `${ID}/certificates/new`, kept }, 'new');
    await inPlace.store.sync(entry(c));
    expect(inPlace.calls[0]).toBe('azure.sync');
    const ignoring = router(azureAccount);
    await ignoring.store.sync(entry(full({ 'integration.b2b.dev/ignore-usage': 'true' })));
    expect(ignoring.calls.filter((x) => x.startsWith('azure.remove'))).toHaveLength(11);
  });
});
