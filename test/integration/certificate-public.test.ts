// The Certificate controller end to end for Public certificates, against the real API server,
// with the operator running as the non-admin user (deploy/ RBAC).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, FINALIZER, Labels } from '../../src/api/types.ts';
import {
  ConfigMapType,
  SecretType,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../../src/kube/client.ts';
import { material } from '../support/certificate-cases.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { listEvents, waitForEvent } from '../support/events.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';
import { inspectCertificate } from '../../src/certificates/inspect.ts';

const run = promisify(execFile);

interface Secret {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    ownerReferences?: { uid: string; kind: string }[];
    resourceVersion?: string;
  };
  type?: string;
  data?: Record<string, string>;
}

describe('Public certificates', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const { partner } = material; // the shared table's certificates (test/support/certificate-cases.ts)
  const secretOf = (name: string) =>
    admin.get<Secret>(resourcePath(SecretType, { namespace: ns, name }));
  const decoded = (s: Secret, key: string) =>
    Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'public');
    await createAccount(admin, ns, 'contoso');
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('makes an inline certificate Ready, with inspection in status and the Secret in the store', async () => {
    await createCertificate(admin, ns, 'fabrikam', {
      certificate: { inline: partner.pem },
      metadata: { partner: 'fabrikam' },
    });
    const c = await waitForCondition(admin, ns, 'fabrikam', 'Ready', 'True', 'Ready');
    const info = inspectCertificate(partner.der);
    expect(c.status).toMatchObject({
      observedGeneration: c.metadata.generation,
      thumbprint: info.thumbprint,
      sha256Fingerprint: info.sha256Fingerprint,
      subject: 'CN=test.example',
      serialNumber: '012345',
      keyUsage: ['digitalSignature'],
      publicKey: { algorithm: 'RSA', size: 2048 },
      store: { ref: 'fabrikam-b2bcert' },
    });
    expect(condition(c, 'CertificateValid')).toMatchObject({ status: 'True', reason: 'Valid' });
    expect(condition(c, 'Synced')).toMatchObject({ status: 'True', reason: 'Synced' });
    expect(condition(c, 'Expiring')).toMatchObject({ status: 'False' });
    expect(condition(c, 'Stalled')).toBeUndefined();
    expect(condition(c, 'Reconciling')).toBeUndefined();
    expect(condition(c, 'KeyVaultAccessGranted')).toBeUndefined();
    // Deletion goes through the operator (below): an uninstall, which deletes the CRD and with
    // it every Certificate, must not take the Secrets along as an ownerReference would.
    expect(c.metadata.finalizers).toContain(FINALIZER);

    const secret = await secretOf('fabrikam-b2bcert');
    expect(secret.type).toBe('Opaque');
    expect(secret.metadata.labels).toMatchObject({
      [Labels.integrationAccount]: 'contoso',
      [Labels.certificate]: 'fabrikam',
      [Labels.type]: 'Public',
    });
    expect(secret.metadata.ownerReferences).toBeUndefined();
    expect(secret.metadata.labels?.[Labels.certificateUid]).toBe(c.metadata.uid);
    expect(decoded(secret, 'tls.crt')).toBe(partner.pem);
    expect(JSON.parse(decoded(secret, 'metadata.json'))).toEqual({ partner: 'fabrikam' });
    expect(secret.data?.['key.json']).toBeUndefined();
  });

  it('is what `kubectl wait --for=condition=Ready` waits for, and `kubectl get b2b` lists', async () => {
    const { kubectl, adminKubeconfig } = testenv();
    await createCertificate(admin, ns, 'waited', { certificate: { inline: partner.pem } });
    const { stdout } = await run(kubectl, [
      '--kubeconfig',
      adminKubeconfig,
      '-n',
      ns,
      'wait',
      '--for=condition=Ready',
      'certificates.integration.b2b.dev/waited',
      '--timeout=30s',
    ]);
    expect(stdout).toMatch(/condition met/);
    const table = await run(kubectl, ['--kubeconfig', adminKubeconfig, '-n', ns, 'get', 'b2b']);
    expect(table.stdout).toMatch(/ACCOUNT\s+TYPE\s+READY\s+REASON\s+EXPIRES/);
    expect(table.stdout).toMatch(/waited\s+contoso\s+Public\s+True\s+Ready/);
    expect(table.stdout).toMatch(
      /integrationaccount.integration.b2b.dev\/contoso\s+Standard\s+kubernetes\s+\d+\s+\d+\s+True/,
    );
  });

  it('waits for a source Secret created after the Certificate, then becomes Ready', async () => {
    await createCertificate(admin, ns, 'later', {
      certificate: { secretRef: { name: 'later-tls' } },
    });
    const waiting = await waitForCondition(
      admin,
      ns,
      'later',
      'Ready',
      'False',
      'CertificateSourceNotFound',
    );
    expect(condition(waiting, 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'CertificateSourceNotFound',
    });
    expect(condition(waiting, 'Stalled')).toBeUndefined();
    expect(condition(waiting, 'CertificateValid')?.message).toMatch(/Secret later-tls not found/);
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'later-tls' },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(partner.pem).toString('base64'),
        'tls.key': Buffer.from('not a real key').toString('base64'),
      },
    });
    const ready = await waitForCondition(admin, ns, 'later', 'Ready', 'True');
    expect(condition(ready, 'Reconciling')).toBeUndefined();
  });

  it('reads a ConfigMap key, DER or PEM', async () => {
    await admin.create(resourcePath(ConfigMapType, { namespace: ns }), {
      metadata: { name: 'partner-certs' },
      data: { 'fabrikam.pem': partner.pem },
      binaryData: { 'fabrikam.cer': partner.der.toString('base64') },
    });
    await createCertificate(admin, ns, 'cm-pem', {
      certificate: { configMapRef: { name: 'partner-certs', key: 'fabrikam.pem' } },
    });
    await createCertificate(admin, ns, 'cm-der', {
      certificate: { configMapRef: { name: 'partner-certs', key: 'fabrikam.cer' } },
    });
    await createCertificate(admin, ns, 'cm-missing-key', {
      certificate: { configMapRef: { name: 'partner-certs', key: 'nope.pem' } },
    });
    const thumbprint = inspectCertificate(partner.der).thumbprint;
    expect((await waitForCondition(admin, ns, 'cm-pem', 'Ready', 'True')).status?.thumbprint).toBe(
      thumbprint,
    );
    expect((await waitForCondition(admin, ns, 'cm-der', 'Ready', 'True')).status?.thumbprint).toBe(
      thumbprint,
    );
    const missing = await waitForCondition(
      admin,
      ns,
      'cm-missing-key',
      'Ready',
      'False',
      'CertificateSourceNotFound',
    );
    expect(condition(missing, 'Ready')?.message).toMatch(
      /has no key nope\.pem \(its keys: fabrikam\.pem, fabrikam\.cer\)/,
    );
  });

  it('stalls on an invalid certificate, with Ready=False carrying the reason, and recovers on a fix', async () => {
    await createCertificate(admin, ns, 'broken', {
      certificate: { inline: material.notACertificate },
    });
    const c = await waitForCondition(admin, ns, 'broken', 'Ready', 'False', 'InvalidCertificate');
    expect(condition(c, 'Stalled')).toMatchObject({ status: 'True', reason: 'InvalidCertificate' });
    expect(condition(c, 'Reconciling')).toBeUndefined();
    expect(condition(c, 'CertificateValid')).toMatchObject({
      status: 'False',
      reason: 'InvalidCertificate',
    });
    expect(condition(c, 'Synced')).toMatchObject({ status: 'False', reason: 'InvalidCertificate' });
    await expect(secretOf('broken-b2bcert')).rejects.toSatisfy(isNotFound);
    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'broken' }), {
      spec: { certificate: { inline: partner.pem } },
    });
    const fixed = await waitForCondition(admin, ns, 'broken', 'Ready', 'True');
    expect(condition(fixed, 'Stalled')).toBeUndefined();
  });

  it('refuses a source holding a private key, without echoing it anywhere', async () => {
    const keyPem = material.pastedKeyPem;
    await createCertificate(admin, ns, 'with-key', {
      certificate: { inline: partner.pem + keyPem },
    });
    const c = await waitForCondition(
      admin,
      ns,
      'with-key',
      'Ready',
      'False',
      'PrivateKeyInCertificate',
    );
    expect(condition(c, 'Stalled')?.status).toBe('True');
    const keyLine = keyPem.split('\n')[1]!;
    // The user put the key in the spec; it must not spread to status, events or logs.
    expect(JSON.stringify(c.status)).not.toContain(keyLine.slice(0, 20));
    expect(op.logs.join('\n')).not.toContain(keyLine.slice(0, 20));
    const refused = await waitForEvent(admin, ns, {
      kind: 'Certificate',
      name: 'with-key',
      reason: 'PrivateKeyInCertificate',
    });
    expect(refused.message).toMatch(/private key/);
    expect(JSON.stringify(await listEvents(admin, ns))).not.toContain(keyLine.slice(0, 20));
  });

  it('reports an expired certificate as terminal, and waits for a not-yet-valid one (not Stalled)', async () => {
    const { expired, notYetValid: future } = material;
    await createCertificate(admin, ns, 'expired', { certificate: { inline: expired.pem } });
    await createCertificate(admin, ns, 'future', { certificate: { inline: future.pem } });
    const e = await waitForCondition(admin, ns, 'expired', 'Ready', 'False', 'CertificateExpired');
    expect(condition(e, 'Stalled')?.reason).toBe('CertificateExpired');
    expect(e.status?.notAfter).toBeDefined();
    const f = await waitForCondition(
      admin,
      ns,
      'future',
      'Ready',
      'False',
      'CertificateNotYetValid',
    );
    expect(condition(f, 'Stalled')).toBeUndefined();
    expect(condition(f, 'Reconciling')?.reason).toBe('CertificateNotYetValid');
    expect(condition(e, 'Expiring')).toMatchObject({
      status: 'False',
      reason: 'CertificateExpired',
    });
  });

  it('waits for a missing IntegrationAccount, then syncs once it exists', async () => {
    await createCertificate(admin, ns, 'orphan', {
      integrationAccount: { name: 'northwind' },
      certificate: { inline: partner.pem },
    });
    const c = await waitForCondition(
      admin,
      ns,
      'orphan',
      'Ready',
      'False',
      'IntegrationAccountNotFound',
    );
    expect(condition(c, 'Reconciling')?.status).toBe('True');
    await createAccount(admin, ns, 'northwind');
    await waitForCondition(admin, ns, 'orphan', 'Ready', 'True');
  });

  it('never touches a foreign Secret of the store name (StoreConflict)', async () => {
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'taken-b2bcert' },
      stringData: { mine: 'yes' },
    });
    await createCertificate(admin, ns, 'taken', { certificate: { inline: partner.pem } });
    const c = await waitForCondition(admin, ns, 'taken', 'Ready', 'False', 'StoreConflict');
    expect(condition(c, 'Stalled')?.status).toBe('True');
    expect(condition(c, 'Synced')).toMatchObject({ status: 'False', reason: 'StoreConflict' });
    const foreign = await secretOf('taken-b2bcert');
    expect(Object.keys(foreign.data ?? {})).toEqual(['mine']);
    expect(foreign.metadata.ownerReferences).toBeUndefined();
  });

  it('keeps the last good version in the store when an edit breaks the certificate', async () => {
    await createCertificate(admin, ns, 'edited', { certificate: { inline: partner.pem } });
    await waitForCondition(admin, ns, 'edited', 'Ready', 'True');
    const before = await secretOf('edited-b2bcert');
    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'edited' }), {
      spec: { certificate: { inline: 'garbage' } },
    });
    const c = await waitForCondition(admin, ns, 'edited', 'Ready', 'False', 'InvalidCertificate');
    expect(condition(c, 'Synced')?.message).toMatch(
      /the store keeps the last good version \(edited-b2bcert\)/,
    );
    expect(c.status?.store?.ref).toBe('edited-b2bcert');
    const after = await secretOf('edited-b2bcert');
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(decoded(after, 'tls.crt')).toBe(partner.pem);
  });

  const deleted = (name: string) =>
    eventually(
      async () => ((await getCertificate(admin, ns, name)) ? undefined : true),
      `${name} deleted`,
    );
  const secretGone = (name: string, timeoutMs?: number) =>
    eventually(
      async () => {
        try {
          await secretOf(name);
          return undefined;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      },
      `${name} gone`,
      timeoutMs,
    );
  const expectReleased = async (name: string) => {
    const kept = await secretOf(name);
    expect(kept.metadata.ownerReferences).toBeUndefined();
    expect(kept.metadata.labels?.[Labels.certificateUid]).toBeUndefined();
    expect(decoded(kept, 'tls.crt')).toBe(partner.pem);
  };

  it('removes the Secret on deletion with deletionPolicy Delete, through the finalizer', async () => {
    await createCertificate(admin, ns, 'gone', { certificate: { inline: partner.pem } });
    await waitForCondition(admin, ns, 'gone', 'Ready', 'True');
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'gone' }));
    await deleted('gone');
    await secretGone('gone-b2bcert');
  });

  it('keeps the Secret (released) on deletion with Retain, through the finalizer', async () => {
    await createCertificate(admin, ns, 'kept', {
      certificate: { inline: partner.pem },
      deletionPolicy: 'Retain',
    });
    const c = await waitForCondition(admin, ns, 'kept', 'Ready', 'True');
    expect(c.metadata.finalizers).toContain(FINALIZER);
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'kept' }));
    await deleted('kept');
    await expectReleased('kept-b2bcert');
  });

  it('keeps the Secret on deletion of a Delete certificate switched to Retain', async () => {
    await createCertificate(admin, ns, 'switched', { certificate: { inline: partner.pem } });
    const before = await waitForCondition(admin, ns, 'switched', 'Ready', 'True');
    expect(before.metadata.finalizers).toContain(FINALIZER);
    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'switched' }), {
      spec: { deletionPolicy: 'Retain' },
    });
    await waitForCondition(admin, ns, 'switched', 'Ready', 'True');
    const after = await secretOf('switched-b2bcert');
    expect(after.metadata.ownerReferences).toBeUndefined();
    expect(after.metadata.labels?.[Labels.certificateUid]).toBe(before.metadata.uid);
    expect((await getCertificate(admin, ns, 'switched'))?.metadata.finalizers).toContain(FINALIZER);
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'switched' }));
    await deleted('switched');
    await expectReleased('switched-b2bcert');
  });

  it('keeps the finalizer of a Retain certificate switched to Delete, and deletes the Secret through it', async () => {
    await createCertificate(admin, ns, 'unretained', {
      certificate: { inline: partner.pem },
      deletionPolicy: 'Retain',
    });
    await waitForCondition(admin, ns, 'unretained', 'Ready', 'True');
    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'unretained' }), {
      spec: { deletionPolicy: 'Delete' },
    });
    await waitForCondition(admin, ns, 'unretained', 'Ready', 'True');
    // No ownerReference under Delete either: the finalizer deletes the Secret.
    expect((await secretOf('unretained-b2bcert')).metadata.ownerReferences).toBeUndefined();
    // Never removed outside deletion: that would be a write for nothing.
    expect((await getCertificate(admin, ns, 'unretained'))?.metadata.finalizers).toContain(
      FINALIZER,
    );
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'unretained' }));
    await deleted('unretained');
    await secretGone('unretained-b2bcert');
  });

  it('finalizes normally a Delete certificate that carries the finalizer from an earlier version, without writing to remove it before', async () => {
    await admin.create(resourcePath(CertificateResource, { namespace: ns }), {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: { name: 'legacy', finalizers: [FINALIZER] },
      spec: {
        integrationAccount: { name: 'contoso' },
        type: 'Public',
        certificate: { inline: partner.pem },
      },
    });
    await waitForCondition(admin, ns, 'legacy', 'Ready', 'True');
    const finalizerWrites = () =>
      op.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/certificates/legacy'));
    expect(finalizerWrites()).toEqual([]);
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'legacy' }));
    await deleted('legacy');
    await secretGone('legacy-b2bcert');
    // Released on deletion (a conflict retried is the same release).
    const released = finalizerWrites();
    expect(
      released.filter((r) => r.status < 300),
      JSON.stringify(released),
    ).toHaveLength(1);
  });

  it('records a Normal Synced event and a Warning with the reason', async () => {
    const synced = await waitForEvent(admin, ns, {
      kind: 'Certificate',
      name: 'fabrikam',
      reason: 'Synced',
    });
    expect(synced.type).toBe('Normal');
    await waitForEvent(admin, ns, { reason: 'InvalidCertificate', type: 'Warning' });
  });
});
