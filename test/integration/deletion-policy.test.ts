// The deletionPolicy contract under deletion as a cluster does it (kube-controller-manager's
// garbage collector runs in the test control plane): a policy change counts once
// status.observedGeneration reaches it, and `--cascade=orphan` keeps the store entry.
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, FINALIZER, Labels } from '../../src/api/types.ts';
import { SecretType, isNotFound, resourcePath, type KubeClient } from '../../src/kube/client.ts';
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
}

// The garbage collector learns new resource types (our CRDs) on its discovery resync, every 30 s.
const GC_TIMEOUT_MS = 90_000;

const collecting = testenv().garbageCollector;
if (!collecting)
  console.warn('deletion-policy tests skipped: KUBEBUILDER_ASSETS has no kube-controller-manager');

describe.skipIf(!collecting)('deletionPolicy with the garbage collector running', () => {
  let admin: KubeClient;
  let ns: string;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const certificatePath = (name: string) =>
    resourcePath(CertificateResource, { namespace: ns, name });
  const secretOf = async (name: string) => {
    try {
      return await admin.get<Secret>(resourcePath(SecretType, { namespace: ns, name }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const gone = (name: string) =>
    eventually(
      async () => ((await getCertificate(admin, ns, name)) ? undefined : true),
      `Certificate ${name} gone`,
      GC_TIMEOUT_MS,
    );

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'dp');
    await createAccount(admin, ns, 'contoso');
  });

  it('honours a change to Retain once observedGeneration reached it, even if the operator is down at deletion', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'switched', { certificate: { inline: partner.pem } });
      await waitForCondition(admin, ns, 'switched', 'Ready', 'True');
      const changed = await admin.patch<{ metadata: { generation: number } }>(
        certificatePath('switched'),
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
    await admin.delete(certificatePath('switched'));
    const again = await startOperator(ns);
    try {
      await gone('switched');
      const secret = await secretOf('switched-b2bcert');
      expect(secret).toBeDefined();
      // Released: nothing left for the garbage collector to follow, and no longer the operator's.
      expect(secret?.metadata.ownerReferences ?? []).toEqual([]);
      expect(secret?.metadata.labels?.[Labels.certificateUid]).toBeUndefined();
    } finally {
      await again.stop();
    }
  }, 180_000);

  it('kubectl delete --cascade=orphan keeps the Secret of a certificate that carries our finalizer', async () => {
    const op = await startOperator(ns);
    try {
      await createCertificate(admin, ns, 'upgraded', { certificate: { inline: partner.pem } });
      await waitForCondition(admin, ns, 'upgraded', 'Ready', 'True');
      // What an earlier version left on every Certificate (Delete policy).
      await admin.patch(certificatePath('upgraded'), { metadata: { finalizers: [FINALIZER] } });
      await admin.delete(certificatePath('upgraded'), { propagationPolicy: 'Orphan' });
      await gone('upgraded');
      expect(await secretOf('upgraded-b2bcert')).toBeDefined();
    } finally {
      await op.stop();
    }
  }, 180_000);
});
