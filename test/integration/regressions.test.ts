// Bugs found in review, each reproduced here before it was fixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, IntegrationAccountResource } from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable } from '../support/certs.ts';
import { keyPair } from '../support/keys.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { WRITE_METHODS, startOperator, type RunningOperator } from '../support/operator.ts';
import {
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

const pair = keyPair('rsa2048', 41);
const certificatePem = privateUsable({}, 41).pem;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('regressions', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const certificateWrites = (name: string) =>
    op.requests.filter(
      (r) => WRITE_METHODS.has(r.method) && r.path.includes(`/certificates/${name}`),
    ).length;

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'regress');
    await createAccount(admin, ns, 'contoso', {
      keyVaults: [{ name: 'in-cluster', kubernetes: {} }],
    });
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'key' },
      stringData: { 'tls.key': pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
    });
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('does not flap certificates when an unrelated field of their account changes', async () => {
    await createCertificate(admin, ns, 'steady', { certificate: { inline: certificatePem } });
    await waitForCondition(admin, ns, 'steady', 'Ready', 'True');
    await settle(1_000);
    const before = certificateWrites('steady');
    await admin.patch(
      resourcePath(IntegrationAccountResource, { namespace: ns, name: 'contoso' }),
      { spec: { location: 'northeurope' } },
    );
    await settle(2_000);
    expect(certificateWrites('steady')).toBe(before);
  });

  it('does not rewrite the status of a kubernetes-vault certificate when nothing changed', async () => {
    await createCertificate(admin, ns, 'private', {
      type: 'Private',
      certificate: { inline: certificatePem },
      key: { vault: 'in-cluster', name: 'key' },
    });
    await waitForCondition(admin, ns, 'private', 'Ready', 'True');
    await settle(1_100);
    const before = certificateWrites('private');
    // An event that re-reconciles it (the key Secret is touched) a second later.
    await admin.patch(resourcePath(SecretType, { namespace: ns, name: 'key' }), {
      metadata: { labels: { touched: 'yes' } },
    });
    await settle(2_000);
    expect(certificateWrites('private')).toBe(before);
  });

  it('removes key.json from the store when a Private certificate becomes Public', async () => {
    await createCertificate(admin, ns, 'switch', {
      type: 'Private',
      certificate: { inline: certificatePem },
      key: { vault: 'in-cluster', name: 'key' },
    });
    await waitForCondition(admin, ns, 'switch', 'Ready', 'True');
    await admin.patch(
      resourcePath(CertificateResource, { namespace: ns, name: 'switch' }),
      [
        { op: 'replace', path: '/spec/type', value: 'Public' },
        { op: 'remove', path: '/spec/key' },
      ],
      'json',
    );
    await waitForCondition(admin, ns, 'switch', 'Ready', 'True');
    const c = await getCertificate(admin, ns, 'switch');
    expect(c?.spec.type).toBe('Public');
    const secret = await admin.get<{
      data: Record<string, string>;
      metadata: { labels: Record<string, string> };
    }>(resourcePath(SecretType, { namespace: ns, name: 'switch-b2bcert' }));
    expect(secret.metadata.labels['integration.b2b.dev/type']).toBe('Public');
    expect(Object.keys(secret.data).sort()).toEqual(['metadata.json', 'tls.crt']);
  });
});

describe('regressions: Secret data in memory', () => {
  it('never holds Secret data in the operator cache, from the list or from the watch', async () => {
    const admin = adminClient();
    const ns = await createNamespace(admin, 'nodata');
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'listed' },
      stringData: { k: 'v' },
    });
    const op = await startOperator(ns);
    try {
      await admin.create(resourcePath(SecretType, { namespace: ns }), {
        metadata: { name: 'watched' },
        stringData: { k: 'v' },
      });
      const watched = await eventually(
        () => Promise.resolve(op.operator.secrets.get(`${ns}/watched`)),
        'watch event',
      );
      const listed = op.operator.secrets.get(`${ns}/listed`);
      expect(listed?.metadata?.name).toBe('listed');
      expect(Object.keys(watched)).not.toContain('data');
      expect(Object.keys(listed ?? {})).not.toContain('data');
    } finally {
      await op.stop();
    }
  });
});
