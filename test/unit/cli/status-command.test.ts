// `b2b status` against a Kubernetes API given as plain objects: the store entry is found by
// the store's own name rule and judged by the store's own ownership rule (a Retain entry has
// the uid label and no ownerReference), and a usage error is reported before connecting.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Certificate } from '../../../src/api/types.ts';
import { main } from '../../../src/cli/main.ts';
import { KubeApiError, KubeClient } from '../../../src/kube/client.ts';
import { secretNameFor } from '../../../src/stores/store-names.ts';

interface SecretObject {
  metadata: { labels?: Record<string, string>; ownerReferences?: { uid: string }[] };
  data: Record<string, string>;
}

function certificate(name: string, deletionPolicy: 'Delete' | 'Retain'): Certificate {
  return {
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name, namespace: 'ns', uid: 'U1' },
    spec: {
      integrationAccount: { name: 'a' },
      type: 'Public',
      deletionPolicy,
      certificate: { inline: 'x' },
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: 'ok',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
      store: { ref: secretNameFor(name), syncedTime: '2026-01-01T00:00:00Z' },
    },
  };
}

/** Runs `b2b status ARGS` against a cluster holding this certificate and store Secret. */
async function status(argv: string[], cert?: Certificate, secret?: SecretObject) {
  const reads: string[] = [];
  const api = {
    config: { getContextObject: () => ({ namespace: 'ns' }), getCurrentContext: () => 'x' },
    get: (path: string) => {
      reads.push(path);
      if (cert && path.endsWith(`/certificates/${cert.metadata.name}`))
        return Promise.resolve(cert);
      if (cert && secret && path.endsWith(`/secrets/${secretNameFor(cert.metadata.name)}`))
        return Promise.resolve(secret);
      return Promise.reject(new KubeApiError(404, { reason: 'NotFound' }, `GET ${path}`));
    },
    list: () => Promise.resolve({ items: [] }),
  };
  const load = vi.spyOn(KubeClient, 'load').mockReturnValue(api as unknown as KubeClient);
  let out = '';
  let err = '';
  const code = await main({
    argv,
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stdin: () => Buffer.from(''),
    env: {},
    cwd: '/tmp',
    now: () => new Date('2026-02-01T00:00:00Z'),
  });
  return { code, out, err, reads, connected: load.mock.calls.length > 0 };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('b2b status certificate: the store entry', () => {
  it('a Retain entry with the uid label and no ownerReference is ours', async () => {
    const r = await status(
      ['status', 'certificate', 'c', '-o', 'json'],
      certificate('c', 'Retain'),
      {
        metadata: { labels: { 'integration.b2b.dev/certificate-uid': 'U1' } },
        data: { 'tls.crt': '' },
      },
    );
    const { store } = JSON.parse(r.out) as {
      store: { secret?: { ownedByThisCertificate: boolean } };
    };
    expect(store.secret?.ownedByThisCertificate).toBe(true);
    expect(r.code).toBe(0);
  });

  it('is looked up by the store name rule, also for a name too long for a -b2bcert suffix', async () => {
    const name = 'x'.repeat(250);
    const r = await status(
      ['status', 'certificate', name, '-o', 'json'],
      certificate(name, 'Delete'),
      {
        metadata: { ownerReferences: [{ uid: 'U1' }] },
        data: { 'tls.crt': '' },
      },
    );
    const { store } = JSON.parse(r.out) as {
      store: { name: string; secret?: { ownedByThisCertificate: boolean } };
    };
    expect(store.name).toBe(secretNameFor(name));
    expect(store.secret?.ownedByThisCertificate).toBe(true);
  });
});

describe('b2b status: usage', () => {
  it('-A with -n exits 2 before connecting', async () => {
    const r = await status(['status', '-A', '-n', 'x']);
    expect(r.code).toBe(2);
    expect(r.connected).toBe(false);
  });
});
