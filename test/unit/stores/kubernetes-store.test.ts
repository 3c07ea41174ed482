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
  it.each(['Retain', 'Delete'] as const)(
    '%s: the uid label removed by hand is put back',
    async (policy) => {
      const { client, objects, edit, cache } = secretApi();
      const store = new KubernetesStore(client, cache);
      const cert = certificate(policy);
      const name = secretNameFor('c');
      await store.sync({ certificate: cert, pem: 'PEM', metadata: {} });
      const before = structuredClone(objects.get(name)!.metadata);
      edit(name, (o) => delete o.metadata.labels?.['integration.b2b.dev/certificate-uid']);
      const result = await store.sync({ certificate: cert, pem: 'PEM', metadata: {} });
      expect(result.written).toBe(true);
      expect(objects.get(name)!.metadata.labels).toEqual(before.labels);
    },
  );
});

/** What an earlier version wrote on a Delete Secret: a controller ownerReference. */
const legacyOwner = {
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  name: 'c',
  uid: 'U1',
  controller: true,
  blockOwnerDeletion: false,
};

describe('KubernetesStore: no ownerReference, whatever the policy', () => {
  it.each(['Delete', 'Retain'] as const)(
    '%s: the Secret has none, and a policy change writes nothing',
    async (policy) => {
      const { client, objects, cache } = secretApi();
      const store = new KubernetesStore(client, cache);
      const name = secretNameFor('c');
      await store.sync({ certificate: certificate(policy), pem: 'PEM', metadata: {} });
      expect(objects.get(name)!.metadata.ownerReferences).toBeUndefined();
      expect(objects.get(name)!.metadata.labels?.['integration.b2b.dev/certificate-uid']).toBe(
        'U1',
      );
      const other = policy === 'Delete' ? 'Retain' : 'Delete';
      const again = await store.sync({ certificate: certificate(other), pem: 'PEM', metadata: {} });
      expect(again.written).toBe(false);
    },
  );

  it('drops the ownerReference an earlier version wrote, from the cache (one write, no restore), others kept', async () => {
    const { client, objects, edit, cache } = secretApi();
    const store = new KubernetesStore(client, cache);
    const name = secretNameFor('c');
    await store.sync({ certificate: certificate('Delete'), pem: 'PEM', metadata: {} });
    const other = { ...legacyOwner, kind: 'ConfigMap', name: 'x', uid: 'X', controller: false };
    edit(name, (o) => (o.metadata.ownerReferences = [other, legacyOwner]));
    // A new store: after the upgrade nothing is remembered, so the Secret is read.
    const upgraded = new KubernetesStore(client, cache);
    const result = await upgraded.sync({
      certificate: certificate('Delete'),
      pem: 'PEM',
      metadata: {},
    });
    expect(result.written).toBe(true);
    expect(result.restored).toBeUndefined();
    expect(objects.get(name)!.metadata.ownerReferences).toEqual([other]);
  });

  it('while a check fails, drops the ownerReference of the last good version once, whatever the policy', async () => {
    const { client, objects, edit, cache } = secretApi();
    const store = new KubernetesStore(client, cache);
    const name = secretNameFor('c');
    await store.sync({ certificate: certificate('Delete'), pem: 'PEM', metadata: {} });
    await store.applyDeletionPolicy(certificate('Delete'));
    const untouched = structuredClone(objects.get(name)!);
    await store.applyDeletionPolicy(certificate('Delete'));
    expect(objects.get(name)).toEqual(untouched);
    edit(name, (o) => (o.metadata.ownerReferences = [legacyOwner]));
    await store.applyDeletionPolicy(certificate('Delete'));
    const released = structuredClone(objects.get(name)!);
    expect(released.metadata.ownerReferences).toBeUndefined();
    // Still the operator's: the uid label stays, and so does the content.
    expect(released.metadata.labels?.['integration.b2b.dev/certificate-uid']).toBe('U1');
    await store.applyDeletionPolicy(certificate('Retain'));
    expect(objects.get(name)).toEqual(released);
  });
});

describe('KubernetesStore after a restart (a new store, nothing remembered)', () => {
  const withStatus = (cert: Certificate, resourceVersion: string | undefined): Certificate => ({
    ...cert,
    status: {
      store: { ref: secretNameFor('c'), ...(resourceVersion ? { resourceVersion } : {}) },
    },
  });
  const counting = (client: KubeClient) => {
    const gets: string[] = [];
    const get = client.get.bind(client);
    client.get = (path: string) => {
      gets.push(path);
      return get(path);
    };
    return gets;
  };

  /** The entry written by an operator process before this one. */
  const writtenBefore = async () => {
    const api = secretApi();
    const first = await new KubernetesStore(api.client, api.cache).sync({
      certificate: certificate('Delete'),
      pem: 'PEM',
      metadata: {},
    });
    return { ...api, first };
  };

  it('confirms a Secret still at the resourceVersion recorded in status from the cache: no read, no write', async () => {
    const { client, objects, cache, first } = await writtenBefore();
    expect(first.version).toBe(objects.get(secretNameFor('c'))!.metadata.resourceVersion);
    const gets = counting(client);
    const restarted = new KubernetesStore(client, cache);
    const cert = withStatus(certificate('Delete'), first.version);
    const result = await restarted.sync({ certificate: cert, pem: 'PEM', metadata: {} });
    expect(result).toMatchObject({ written: false, version: first.version });
    expect(gets).toEqual([]);
  });

  it('reads and restores a Secret edited while it was down (another resourceVersion), and reads one without a recorded version', async () => {
    const { client, objects, edit, cache, first } = await writtenBefore();
    const name = secretNameFor('c');
    edit(name, (o) => {
      o.data = { 'tls.crt': Buffer.from('EDITED').toString('base64') };
    });
    const gets = counting(client);
    const cert = withStatus(certificate('Delete'), first.version);
    const result = await new KubernetesStore(client, cache).sync({
      certificate: cert,
      pem: 'PEM',
      metadata: {},
    });
    expect(result.written).toBe(true);
    expect(result.restored).toContain('data tls.crt');
    expect(gets).toHaveLength(1);
    expect(
      Buffer.from(
        (objects.get(name)!.data as Record<string, string>)['tls.crt']!,
        'base64',
      ).toString(),
    ).toBe('PEM');
    const unrecorded = await new KubernetesStore(client, cache).sync({
      certificate: withStatus(certificate('Delete'), undefined),
      pem: 'PEM',
      metadata: {},
    });
    expect(unrecorded.written).toBe(false);
    expect(gets).toHaveLength(2);
  });

  it('brings a Secret at the recorded version up to a changed spec from the cache (a write, no read)', async () => {
    const { client, objects, cache, first } = await writtenBefore();
    const gets = counting(client);
    const result = await new KubernetesStore(client, cache).sync({
      certificate: withStatus(certificate('Delete'), first.version),
      pem: 'PEM2',
      metadata: {},
    });
    expect(result.written).toBe(true);
    expect(gets).toEqual([]);
    expect(
      Buffer.from(
        (objects.get(secretNameFor('c'))!.data as Record<string, string>)['tls.crt']!,
        'base64',
      ).toString(),
    ).toBe('PEM2');
  });
});

describe('KubernetesStore on deletion', () => {
  it('removes a Delete Secret of its own, and leaves one marked for another Certificate', async () => {
    const { client, objects, edit, cache } = secretApi();
    const store = new KubernetesStore(client, cache);
    const cert = certificate('Delete');
    const name = secretNameFor('c');
    await store.sync({ certificate: cert, pem: 'PEM', metadata: {} });
    edit(name, (o) => (o.metadata.labels!['integration.b2b.dev/certificate-uid'] = 'OTHER'));
    await store.remove(cert);
    expect(objects.get(name)).toBeDefined();
    edit(name, (o) => (o.metadata.labels!['integration.b2b.dev/certificate-uid'] = 'U1'));
    await store.remove(cert);
    expect(objects.get(name)).toBeUndefined();
  });

  it('forgets what it knew of a deleted certificate’s Secret', async () => {
    const { client, cache } = secretApi();
    const store = new KubernetesStore(client, cache);
    await store.sync({ certificate: certificate('Delete'), pem: 'PEM', metadata: {} });
    expect(store.rememberedSecrets).toBe(1);
    store.forget('ns', 'c');
    expect(store.rememberedSecrets).toBe(0);
  });
});
