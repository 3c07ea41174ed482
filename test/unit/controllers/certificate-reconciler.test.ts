// The certificate reconciler's deletion paths with plain objects: which store call a deleted
// Certificate gets, and that a Certificate gone from the cache leaves nothing remembered.
import { describe, expect, it } from 'vitest';
import { FINALIZER, type Certificate } from '../../../src/api/types.ts';
import {
  CertificateReconciler,
  type CertificateReconcilerDeps,
} from '../../../src/controllers/certificate/reconciler.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { KubernetesStore } from '../../../src/stores/kubernetes-store.ts';
import type { Store } from '../../../src/stores/store.ts';

const deleted = (finalizers: string[], deletionPolicy: 'Delete' | 'Retain'): Certificate => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: {
    name: 'c',
    namespace: 'ns',
    uid: 'U1',
    resourceVersion: '5',
    finalizers,
    deletionTimestamp: new Date('2026-06-01T00:00:00Z'),
  },
  spec: {
    integrationAccount: { name: 'a' },
    type: 'Public',
    deletionPolicy,
    certificate: { inline: 'x' },
  },
});

function reconcilerWith(
  store: Store,
  certificate: Certificate | undefined,
  uninstall: { crdDeleting?: boolean; seenOrphan?: boolean } = {},
) {
  const client = { patch: () => Promise.resolve({}) } as unknown as KubeClient;
  const deps = {
    client,
    certificate: () => certificate,
    store,
    metrics: { removeCertificate: () => {} },
    log: { info: () => {} },
    events: { emit: () => {} },
    certificateCrdDeleting: () => Promise.resolve(uninstall.crdDeleting === true),
    deletedWithOrphan: () => uninstall.seenOrphan === true,
  } as unknown as CertificateReconcilerDeps;
  return new CertificateReconciler(deps);
}

describe('CertificateReconciler on deletion', () => {
  it.each([
    [['orphan', FINALIZER], 'Delete', {}, 'release'],
    [[FINALIZER], 'Delete', {}, 'remove'],
    [[FINALIZER], 'Retain', {}, 'release'],
    // The watch saw `orphan`, which the garbage collector removed before this reconcile.
    [[FINALIZER], 'Delete', { seenOrphan: true }, 'release'],
    // An uninstall: the CRD is being deleted, and every Certificate with it.
    [[FINALIZER], 'Delete', { crdDeleting: true }, 'release'],
    [[FINALIZER], 'Retain', { crdDeleting: true }, 'release'],
  ] as const)(
    'finalizers %j, deletionPolicy %s, %j: the store gets %s',
    async (finalizers, policy, uninstall, expected) => {
      const calls: string[] = [];
      const store = {
        refFor: () => 'c-b2bcert',
        remove: () => Promise.resolve(void calls.push('remove')),
        release: () => Promise.resolve(void calls.push('release')),
      } as unknown as Store;
      await reconcilerWith(store, deleted([...finalizers], policy), uninstall).reconcile('ns/c');
      expect(calls).toEqual([expected]);
    },
  );

  it('removes nothing when it cannot tell whether the CRD is being deleted (the finalizer stays)', async () => {
    const calls: string[] = [];
    const store = {
      refFor: () => 'c-b2bcert',
      remove: () => Promise.resolve(void calls.push('remove')),
      release: () => Promise.resolve(void calls.push('release')),
    } as unknown as Store;
    const reconciler = new CertificateReconciler({
      client: { patch: () => Promise.resolve({}) } as unknown as KubeClient,
      certificate: () => deleted([FINALIZER], 'Delete'),
      store,
      metrics: { removeCertificate: () => {} },
      log: { info: () => {}, warn: () => {} },
      events: { emit: () => {} },
      now: () => new Date('2026-06-01T00:00:00Z'),
      certificateCrdDeleting: () => Promise.reject(new Error('forbidden')),
      deletedWithOrphan: () => false,
    } as unknown as CertificateReconcilerDeps);
    await expect(reconciler.reconcile('ns/c')).rejects.toThrow('forbidden');
    expect(calls).toEqual([]);
  });

  it('forgets the store Secret of a Certificate gone from the cache (deleted without a finalizer)', async () => {
    let version = 0;
    const client = {
      create: (_path: string, body: { metadata: object }) =>
        Promise.resolve({
          ...body,
          metadata: { ...body.metadata, uid: 'S1', resourceVersion: `${++version}` },
        }),
    } as unknown as KubeClient;
    const store = new KubernetesStore(client, () => undefined);
    const certificate = deleted([], 'Delete');
    await store.sync({ certificate, pem: 'PEM', metadata: {} });
    expect(store.rememberedSecrets).toBe(1);
    await reconcilerWith(store, undefined).reconcile('ns/c');
    expect(store.rememberedSecrets).toBe(0);
  });
});
