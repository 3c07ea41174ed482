// Referenced sources are as large as the API server lets a Secret or ConfigMap be: a CA
// bundle of many certificates is common, and the first certificate is the one used.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMapType, SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace } from '../support/cluster.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import { createAccount, createCertificate, waitForCondition } from '../support/resources.ts';

describe('certificate sources over 64 KiB', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const ca = selfSigned('rsa2048', {}, 1);
  const thumbprint = createHash('sha1').update(partner.der).digest('hex').toUpperCase();
  // About 100 KiB: the partner's certificate, then a long chain of CA certificates.
  const bundle = partner.pem + ca.pem.repeat(Math.ceil((100 * 1024) / ca.pem.length));

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'large');
    await createAccount(admin, ns, 'contoso');
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('syncs the first certificate of a large bundle in a ConfigMap or a Secret', async () => {
    expect(Buffer.byteLength(bundle)).toBeGreaterThan(64 * 1024);
    await admin.create(resourcePath(ConfigMapType, { namespace: ns }), {
      metadata: { name: 'bundle' },
      data: { 'ca.pem': bundle },
    });
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'bundle' },
      stringData: { 'tls.crt': bundle },
    });
    await createCertificate(admin, ns, 'from-configmap', {
      certificate: { configMapRef: { name: 'bundle', key: 'ca.pem' } },
    });
    await createCertificate(admin, ns, 'from-secret', {
      certificate: { secretRef: { name: 'bundle', key: 'tls.crt' } },
    });
    for (const name of ['from-configmap', 'from-secret']) {
      const c = await waitForCondition(admin, ns, name, 'Ready', 'True');
      expect(c.status?.thumbprint).toBe(thumbprint);
    }
  });
});
