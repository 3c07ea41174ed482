// Deletion as a cluster does it: kube-controller-manager's garbage collector runs in the test
// control plane, so owner references and propagation policies have their real effect; and the
// deletionPolicy contract: a change counts once status.observedGeneration reaches it.
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, FINALIZER, Labels } from '../../src/api/types.ts';
import {
  ConfigMapType,
  SecretType,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { startOperator } from '../support/operator.ts';
import {
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

interface Secret {
  metadata: {
    uid: string;
    labels?: Record<string, string>;
    ownerReferences?: { uid: string }[];
  };
  data?: Record<string, string>;
}

// The garbage collector learns new resource types (our CRDs) on its discovery resync, every 30 s.
const GC_TIMEOUT_MS = 90_000;

const collecting = testenv().garbageCollector;
if (!collecting)
  console.warn(
    'garbage-collection tests skipped: KUBEBUILDER_ASSETS has no kube-controller-manager',
  );

describe.skipIf(!collecting)('deletion with the garbage collector running', () => {
  let admin: KubeClient;
  let ns: string;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const secretOf = async (name: string) => {
    try {
      return await admin.get<Secret>(resourcePath(SecretType, { namespace: ns, name }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const certPath = (name: string) => resourcePath(CertificateResource, { namespace: ns, name });
  const deleteForeground = (name: string) =>
    admin.delete(resourcePath(CertificateResource, { namespace: ns, name }), {
      propagationPolicy: 'Foreground',
    });

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'gc');
    await createAccount(admin, ns, 'contoso');
  });

  it('deletes the dependents of a deleted owner (the test control plane collects garbage)', async () => {
    const owner = await admin.create<{ metadata: { uid: string } }>(
      resourcePath(ConfigMapType, { namespace: ns }),
      { metadata: { name: 'owner' } },
    );
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: {
        name: 'dependent',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid },
        ],
      },
    });
    await admin.delete(resourcePath(ConfigMapType, { namespace: ns, name: 'owner' }));
    await eventually(
      async () => ((await secretOf('dependent')) ? undefined : true),
      'the dependent Secret collected',
      GC_TIMEOUT_MS,
    );
  });

  it('keeps the Secret of a Retain certificate deleted with foreground propagation, even while the operator is down', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'kept', {
        certificate: { inline: partner.pem },
        deletionPolicy: 'Retain',
      });
      await waitForCondition(admin, ns, 'kept', 'Ready', 'True');
    } finally {
      await op.stop();
    }
    // What `kubectl delete --cascade=foreground` and Argo CD's prune do.
    await deleteForeground('kept');
    await eventually(
      async () => {
        const c = await getCertificate(admin, ns, 'kept');
        return c && !c.metadata.finalizers?.includes('foregroundDeletion') ? c : undefined;
      },
      'the garbage collector done with the Certificate (only our finalizer left)',
      GC_TIMEOUT_MS,
    );
    expect(await secretOf('kept-b2bcert')).toBeDefined();

    const again = await startOperator(ns);
    try {
      await eventually(
        async () => ((await getCertificate(admin, ns, 'kept')) ? undefined : true),
        'the Certificate gone',
      );
    } finally {
      await again.stop();
    }
    const kept = await secretOf('kept-b2bcert');
    expect(Buffer.from(kept?.data?.['tls.crt'] ?? '', 'base64').toString()).toBe(partner.pem);
    expect(kept?.metadata.ownerReferences ?? []).toEqual([]);
    expect(kept?.metadata.labels?.[Labels.certificateUid]).toBeUndefined();
  });

  it('keeps the Secret of a Delete certificate deleted while the operator is down until it is back, then removes it (no ownerReference: the finalizer does it)', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'unattended', { certificate: { inline: partner.pem } });
      await waitForCondition(admin, ns, 'unattended', 'Ready', 'True');
    } finally {
      await op.stop();
    }
    expect((await secretOf('unattended-b2bcert'))?.metadata.ownerReferences).toBeUndefined();
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'unattended' }));
    // The garbage collector has nothing to follow; the Certificate waits for the operator.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await getCertificate(admin, ns, 'unattended'))?.metadata.finalizers).toEqual([
      FINALIZER,
    ]);
    expect(await secretOf('unattended-b2bcert')).toBeDefined();
    const again = await startOperator(ns);
    try {
      await eventually(
        async () => ((await getCertificate(admin, ns, 'unattended')) ? undefined : true),
        'the Certificate gone',
      );
      expect(await secretOf('unattended-b2bcert')).toBeUndefined();
    } finally {
      await again.stop();
    }
  });

  it('after an upgrade, drops the ownerReference an earlier version wrote and adds the finalizer (one write each), then deletes through it', async () => {
    const op = await startOperator(ns);
    let certificateUid = '';
    try {
      await createCertificate(admin, ns, 'older', { certificate: { inline: partner.pem } });
      certificateUid = (await waitForCondition(admin, ns, 'older', 'Ready', 'True')).metadata.uid!;
    } finally {
      await op.stop();
    }
    // What an earlier version left: a controller ownerReference on the Secret, no finalizer.
    await admin.patch(certPath('older'), { metadata: { finalizers: null } });
    await admin.patch(resourcePath(SecretType, { namespace: ns, name: 'older-b2bcert' }), {
      metadata: {
        ownerReferences: [
          {
            apiVersion: 'integration.b2b.dev/v1alpha1',
            kind: 'Certificate',
            name: 'older',
            uid: certificateUid,
            controller: true,
            blockOwnerDeletion: false,
          },
        ],
      },
    });
    const upgraded = await startOperator(ns);
    try {
      await eventually(async () => {
        const c = await getCertificate(admin, ns, 'older');
        const s = await secretOf('older-b2bcert');
        return c?.metadata.finalizers?.includes(FINALIZER) && !s?.metadata.ownerReferences?.length
          ? true
          : undefined;
      }, 'the finalizer added and the ownerReference dropped');
      const writes = upgraded.requests.filter(
        (r) =>
          r.method === 'PATCH' && /\/(certificates\/older|secrets\/older-b2bcert)$/.test(r.path),
      );
      expect(writes.map((r) => r.path.split('/').slice(-2)[0])).toEqual([
        'certificates',
        'secrets',
      ]);
      expect(upgraded.logs.join('\n')).not.toContain('store entry restored');
      await admin.delete(certPath('older'));
      await eventually(
        async () => ((await getCertificate(admin, ns, 'older')) ? undefined : true),
        'the Certificate gone',
      );
      expect(await secretOf('older-b2bcert')).toBeUndefined();
    } finally {
      await upgraded.stop();
    }
  });

  it('removes the Secret of a Delete certificate deleted with foreground propagation', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'gone', { certificate: { inline: partner.pem } });
      await waitForCondition(admin, ns, 'gone', 'Ready', 'True');
      await deleteForeground('gone');
      await eventually(
        async () => ((await getCertificate(admin, ns, 'gone')) ? undefined : true),
        'the Certificate gone',
        GC_TIMEOUT_MS,
      );
      await eventually(
        async () => ((await secretOf('gone-b2bcert')) ? undefined : true),
        'its Secret gone',
      );
    } finally {
      await op.stop();
    }
  });

  it('honours a change to Retain once observedGeneration reached it, even if the operator is down at deletion', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'switched', { certificate: { inline: partner.pem } });
      await waitForCondition(admin, ns, 'switched', 'Ready', 'True');
      const changed = await admin.patch<{ metadata: { generation: number } }>(
        certPath('switched'),
        { spec: { deletionPolicy: 'Retain' } },
      );
      // What docs/API.md tells users to wait for (`kubectl wait --for=jsonpath=...`).
      await eventually(async () => {
        const c = await getCertificate(admin, ns, 'switched');
        return (c?.status?.observedGeneration ?? 0) >= changed.metadata.generation || undefined;
      }, 'observedGeneration at the change');
    } finally {
      await op.stop();
    }
    await admin.delete(certPath('switched'));
    const again = await startOperator(ns);
    try {
      await eventually(
        async () => ((await getCertificate(admin, ns, 'switched')) ? undefined : true),
        'the Certificate gone',
        GC_TIMEOUT_MS,
      );
      const secret = await secretOf('switched-b2bcert');
      expect(secret).toBeDefined();
      // Released: nothing left for the garbage collector to follow, and no longer the operator's.
      expect(secret?.metadata.ownerReferences ?? []).toEqual([]);
      expect(secret?.metadata.labels?.[Labels.certificateUid]).toBeUndefined();
    } finally {
      await again.stop();
    }
  }, 180_000);

  it('releases the Secret of a failing certificate switched to Retain before observedGeneration reaches the change, so a foreground delete keeps it', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'lapsed', { certificate: { inline: partner.pem } });
      await waitForCondition(admin, ns, 'lapsed', 'Ready', 'True');
      // Expired certificates are exactly the ones people delete; the last good version stays.
      const expired = selfSigned('rsa2048', {
        keyUsage: ['digitalSignature'],
        notBefore: new Date(Date.now() - 2 * 86_400_000),
        notAfter: new Date(Date.now() - 3_600_000),
      });
      await admin.patch(certPath('lapsed'), { spec: { certificate: { inline: expired.pem } } });
      await waitForCondition(admin, ns, 'lapsed', 'Ready', 'False', 'CertificateExpired');
      const changed = await admin.patch<{ metadata: { generation: number } }>(certPath('lapsed'), {
        spec: { deletionPolicy: 'Retain' },
      });
      await eventually(async () => {
        const c = await getCertificate(admin, ns, 'lapsed');
        return (c?.status?.observedGeneration ?? 0) >= changed.metadata.generation || undefined;
      }, 'observedGeneration at the change');
      // What docs/API.md promises at that point, whatever the checks say.
      const released = await secretOf('lapsed-b2bcert');
      expect(released?.metadata.ownerReferences ?? []).toEqual([]);
      await deleteForeground('lapsed');
      await eventually(
        async () => ((await getCertificate(admin, ns, 'lapsed')) ? undefined : true),
        'the Certificate gone',
        GC_TIMEOUT_MS,
      );
      expect((await secretOf('lapsed-b2bcert'))?.metadata.uid).toBe(released?.metadata.uid);
    } finally {
      await op.stop();
    }
  }, 180_000);

  it('kubectl delete --cascade=orphan keeps the Secret of a Delete certificate', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'upgraded', { certificate: { inline: partner.pem } });
      await waitForCondition(admin, ns, 'upgraded', 'Ready', 'True');
      await admin.delete(certPath('upgraded'), { propagationPolicy: 'Orphan' });
      await eventually(
        async () => ((await getCertificate(admin, ns, 'upgraded')) ? undefined : true),
        'the Certificate gone',
        GC_TIMEOUT_MS,
      );
      const kept = await secretOf('upgraded-b2bcert');
      expect(kept).toBeDefined();
      expect(kept?.metadata.labels?.[Labels.certificateUid]).toBeUndefined();
    } finally {
      await op.stop();
    }
  }, 180_000);
});
