// The kubernetes store over an in-memory Secret API (merge patches, resourceVersions, uids):
// the Secret object the store wrote stays ours when its marks are removed by hand, and is put
// back instead of being reported as a StoreConflict.
import { describe, expect, it } from 'vitest';
import type { Certificate } from '../../../src/api/types.ts';
import { KubeApiError, type KubeClient } from '../../../src/kube/client.ts';
import { KubernetesStore, type SecretMetadata } from '../../../src/stores/kubernetes-store.ts';
import { secretNameFor } from '../../../src/stores/store-names.ts';
import { mergePatch } from '../../support/merge-patch.ts';

interface Stored {
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    ownerReferences?: NonNullable<SecretMetadata['metadata']>['ownerReferences'];
  };
  [field: string]: unknown;
}

/** Secrets of one namespace in memory, with the API server's uid and resourceVersion rules. */
function secretApi() {
  const objects = new Map<string, Stored>();
  let version = 1;
  const nameOf = (path: string) => path.split('/').pop()!;
  const missing = (what: string) => new KubeApiError(404, { reason: 'NotFound' }, what);
  const client = {
    get: (path: string) => {
      const o = objects.get(nameOf(path));
      return o ? Promise.resolve(structuredClone(o)) : Promise.reject(missing('GET'));
    },
    create: (_path: string, body: Stored) => {
      if (objects.has(body.metadata.name))
        return Promise.reject(new KubeApiError(409, { reason: 'AlreadyExists' }, 'POST'));
      const o = structuredClone(body);
      o.metadata.uid = `uid-${++version}`;
      o.metadata.resourceVersion = String(version);
      objects.set(o.metadata.name, o);
      return Promise.resolve(structuredClone(o));
    },
    patch: (path: string, body: { metadata?: { resourceVersion?: string } }) => {
      const o = objects.get(nameOf(path));
      if (!o) return Promise.reject(missing('PATCH'));
      const expected = body.metadata?.resourceVersion;
      if (expected && expected !== o.metadata.resourceVersion)
        return Promise.reject(new KubeApiError(409, { reason: 'Conflict' }, 'PATCH'));
      const n = mergePatch(o, body) as Stored;
      n.metadata.resourceVersion = String(++version);
      objects.set(n.metadata.name, n);
      return Promise.resolve(structuredClone(n));
    },
    delete: (path: string) => {
      objects.delete(nameOf(path));
      return Promise.resolve({});
    },
  } as unknown as KubeClient;
  /** An edit by hand: a new resourceVersion, the same object (uid). */
  const edit = (name: string, change: (o: Stored) => void) => {
    const o = objects.get(name)!;
    change(o);
    o.metadata.resourceVersion = String(++version);
  };
  const cache = (_namespace: string, name: string): SecretMetadata | undefined => {
    const o = objects.get(name);
    return o && { metadata: structuredClone(o.metadata) };
  };
  return { client, objects, edit, cache };
}

const certificate = (deletionPolicy: 'Delete' | 'Retain'): Certificate => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name: 'c', namespace: 'ns', uid: 'U1' },
  spec: {
    integrationAccount: { name: 'a' },
    type: 'Public',
    deletionPolicy,
    certificate: { inline: 'x' },
  },
});

describe('KubernetesStore: the Secret it wrote stays its own', () => {
  it.each([
    [
      'Retain',
      'the uid label',
      (o: Stored) => delete o.metadata.labels?.['integration.b2b.dev/certificate-uid'],
    ],
    ['Delete', 'the ownerReference', (o: Stored) => delete o.metadata.ownerReferences],
  ] as const)('%s: %s removed by hand is put back', async (policy, _what, removeMark) => {
    const { client, objects, edit, cache } = secretApi();
    const store = new KubernetesStore(client, cache);
    const cert = certificate(policy);
    const name = secretNameFor('c');
    await store.sync({ certificate: cert, pem: 'PEM', metadata: {} });
    const before = structuredClone(objects.get(name)!.metadata);
    edit(name, removeMark);
    const result = await store.sync({ certificate: cert, pem: 'PEM', metadata: {} });
    expect(result.written).toBe(true);
    const after = objects.get(name)!.metadata;
    expect(after.labels).toEqual(before.labels);
    expect(after.ownerReferences).toEqual(before.ownerReferences);
  });
});

describe('KubernetesStore: a deletionPolicy change', () => {
  it.each([
    ['Delete', 'Retain', undefined],
    ['Retain', 'Delete', [expect.objectContaining({ uid: 'U1', controller: true })]],
  ] as const)(
    '%s -> %s sets the ownerReference of a current entry (same data, same content hash)',
    async (from, to, owners) => {
      const { client, objects, cache } = secretApi();
      const store = new KubernetesStore(client, cache);
      const name = secretNameFor('c');
      await store.sync({ certificate: certificate(from), pem: 'PEM', metadata: {} });
      const result = await store.sync({ certificate: certificate(to), pem: 'PEM', metadata: {} });
      expect(result.written).toBe(true);
      expect(objects.get(name)!.metadata.ownerReferences).toEqual(owners);
      expect(objects.get(name)!.metadata.labels?.['integration.b2b.dev/certificate-uid']).toBe(
        'U1',
      );
      const again = await store.sync({ certificate: certificate(to), pem: 'PEM', metadata: {} });
      expect(again.written).toBe(false);
    },
  );
});
