// spec.adoption end to end (API.md, "Entries that already exist"): store entries this
// Certificate did not write, in both stores. The kubernetes store: the operator against the real
// API server; the azure store: the operator process against the ARM test server, whose record
// of request bodies proves what each PUT carried.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, Labels, type Certificate } from '../../src/api/types.ts';
import { ConfigMapType, SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { refusal } from '../support/api-refusal.ts';
import { ArmTestServer, LOGIC_APPS_APP_ID } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { keyPair } from '../support/keys.ts';
import { kubectl, succeeded } from '../support/kubectl.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import { importKey, NO_EMULATOR, vaultAdmin } from '../support/vault.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  kubectlApply,
  waitForCondition,
} from '../support/resources.ts';

interface Secret {
  metadata: {
    name: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string; kind: string; controller?: boolean }[];
    resourceVersion?: string;
  };
  data?: Record<string, string>;
}

interface Event {
  reason: string;
  type: string;
  message: string;
  involvedObject: { name: string; uid?: string };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const decoded = (s: Secret, key: string) =>
  Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');
const thumbprint = (der: Buffer) => createHash('sha1').update(der).digest('hex').toUpperCase();

/** The events of that reason for the certificate so far. */
async function eventsFor(admin: KubeClient, ns: string, name: string, reason: string) {
  const list = await admin.list<{ items: Event[] }>(`/api/v1/namespaces/${ns}/events`);
  return list.items.filter((e) => e.reason === reason && e.involvedObject.name === name);
}

/** The event of that reason for the certificate (events are sent in the background). */
async function eventFor(admin: KubeClient, ns: string, name: string, reason: string) {
  return eventually(async () => {
    const list = await admin.list<{ items: Event[] }>(`/api/v1/namespaces/${ns}/events`);
    return list.items.find((e) => e.reason === reason && e.involvedObject.name === name);
  }, `a ${reason} event for ${name}`);
}

const certificateManifest = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name },
  spec: { integrationAccount: { name: 'contoso' }, type: 'Public', ...spec },
});

describe('spec.adoption in the CRD', () => {
  let admin: KubeClient;
  let ns: string;
  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'adoptcrd');
  });

  it('defaults spec.adoption to IfIdentical, takes Never | IfIdentical | Always, refuses others, and kubectl explain describes it', async () => {
    const pem = selfSigned('ec256').pem;
    const created = await createCertificate(admin, ns, 'defaulted', {
      certificate: { inline: pem },
    });
    expect(created.spec.adoption).toBe('IfIdentical');
    for (const adoption of ['Never', 'IfIdentical', 'Always'] as const) {
      const c = await createCertificate(admin, ns, `set-${adoption.toLowerCase()}`, {
        certificate: { inline: pem },
        adoption,
      });
      expect(c.spec.adoption).toBe(adoption);
    }
    const message = await refusal(
      admin,
      resourcePath(CertificateResource, { namespace: ns }),
      certificateManifest('bad', { certificate: { inline: pem }, adoption: 'Sometimes' }),
    );
    expect(message).toMatch(
      /spec\.adoption.*Unsupported value: "Sometimes".*"Never", "IfIdentical", "Always"/s,
    );
    const explained = succeeded(
      await kubectl(['explain', 'certificates.integration.b2b.dev.spec.adoption']),
    );
    expect(explained).toMatch(/IfIdentical\s+\(the\s+default\)\s+adopts/);
    expect(explained).toContain('StoreConflict');
  });
});

describe('adoption in the kubernetes store', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const other = selfSigned('ec256');
  const secretPath = (name: string) => resourcePath(SecretType, { namespace: ns, name });
  const secretOf = (name: string) => admin.get<Secret>(secretPath(name));
  const handMade = (name: string, pem: string, extra: Record<string, unknown> = {}) =>
    admin.create<Secret>(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name, ...extra },
      type: 'Opaque',
      data: { 'tls.crt': b64(pem) },
    });

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'adoptkube');
    await createAccount(admin, ns, 'contoso');
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('takes over the Secret of a Retain Certificate deleted and applied again (new uid), with Normal Adopted', async () => {
    const manifest = certificateManifest('kept', {
      certificate: { inline: partner.pem },
      deletionPolicy: 'Retain',
    });
    await kubectlApply(ns, manifest);
    const first = await waitForCondition(admin, ns, 'kept', 'Ready', 'True');
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'kept' }));
    await eventually(
      async () => ((await getCertificate(admin, ns, 'kept')) ? undefined : true),
      'the Retain Certificate gone',
    );
    const left = await secretOf('kept-b2bcert');
    expect(left.metadata.labels?.[Labels.certificateUid]).toBeUndefined();

    await kubectlApply(ns, manifest);
    const again = await waitForCondition(admin, ns, 'kept', 'Ready', 'True');
    expect(again.metadata.uid).not.toBe(first.metadata.uid);
    const taken = await secretOf('kept-b2bcert');
    expect(taken.metadata.uid).toBe(left.metadata.uid);
    expect(taken.metadata.labels?.[Labels.certificateUid]).toBe(again.metadata.uid);
    const event = await eventFor(admin, ns, 'kept', 'Adopted');
    expect(event.type).toBe('Normal');
    expect(event.message).toMatch(
      /took over Secret kept-b2bcert, written for an earlier Certificate of this name/,
    );
  });

  it('takes over a restored Secret marked for this name with an earlier uid, moving the uid label (Delete; no ownerReference)', async () => {
    await handMade('restored-b2bcert', other.pem, {
      labels: {
        [Labels.certificate]: 'restored',
        [Labels.certificateUid]: 'uid-before-the-restore',
      },
      annotations: { [Labels.certificate]: 'restored' },
    });
    await createCertificate(admin, ns, 'restored', { certificate: { inline: partner.pem } });
    const c = await waitForCondition(admin, ns, 'restored', 'Ready', 'True');
    const secret = await secretOf('restored-b2bcert');
    expect(secret.metadata.labels?.[Labels.certificateUid]).toBe(c.metadata.uid);
    expect(secret.metadata.ownerReferences).toBeUndefined();
    expect(decoded(secret, 'tls.crt')).toBe(partner.pem);
    const event = await eventFor(admin, ns, 'restored', 'Adopted');
    expect(event.message).toContain('(uid uid-before-the-restore)');
  });

  it('adopts an unmarked Secret that already holds the same tls.crt (IfIdentical, the default)', async () => {
    const before = await handMade('same-b2bcert', partner.pem);
    await createCertificate(admin, ns, 'same', { certificate: { inline: partner.pem } });
    const c = await waitForCondition(admin, ns, 'same', 'Ready', 'True');
    const secret = await secretOf('same-b2bcert');
    expect(secret.metadata.uid).toBe(before.metadata.uid);
    expect(secret.data?.['tls.crt']).toBe(before.data?.['tls.crt']);
    expect(secret.metadata.labels?.[Labels.certificateUid]).toBe(c.metadata.uid);
    const event = await eventFor(admin, ns, 'same', 'Adopted');
    expect(event.type).toBe('Normal');
    expect(event.message).toMatch(/^adopted Secret same-b2bcert: .*already held this certificate/);
  });

  it('leaves an unmarked Secret with another tls.crt alone (StoreConflict naming data tls.crt); Always overwrites it with Warning Overwritten naming the old thumbprint', async () => {
    await handMade('differs-b2bcert', other.pem);
    await createCertificate(admin, ns, 'differs', { certificate: { inline: partner.pem } });
    const c = await waitForCondition(admin, ns, 'differs', 'Ready', 'False', 'StoreConflict');
    expect(condition(c, 'Stalled')?.status).toBe('True');
    expect(condition(c, 'Synced')?.message).toMatch(
      /Secret differs-b2bcert already exists.*differs from it \(data tls\.crt\); it is left untouched\. Set spec\.adoption: Always to overwrite it/,
    );
    expect(decoded(await secretOf('differs-b2bcert'), 'tls.crt')).toBe(other.pem);

    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'differs' }), {
      spec: { adoption: 'Always' },
    });
    await waitForCondition(admin, ns, 'differs', 'Ready', 'True');
    expect(decoded(await secretOf('differs-b2bcert'), 'tls.crt')).toBe(partner.pem);
    const event = await eventFor(admin, ns, 'differs', 'Overwritten');
    expect(event.type).toBe('Warning');
    expect(event.message).toContain(`thumbprint ${thumbprint(other.der)}`);
  });

  it('Never: StoreConflict even for an unmarked Secret holding the same tls.crt', async () => {
    const before = await handMade('never-b2bcert', partner.pem);
    await createCertificate(admin, ns, 'never', {
      certificate: { inline: partner.pem },
      adoption: 'Never',
    });
    const c = await waitForCondition(admin, ns, 'never', 'Ready', 'False', 'StoreConflict');
    expect(condition(c, 'Synced')?.message).toMatch(/spec\.adoption is Never/);
    const after = await secretOf('never-b2bcert');
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('never takes a Secret another object controls, even with Always', async () => {
    const owner = await admin.create<{ metadata: { uid: string } }>(
      resourcePath(ConfigMapType, { namespace: ns }),
      { metadata: { name: 'someone' }, data: {} },
    );
    const before = await handMade('held-b2bcert', other.pem, {
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: 'someone',
          uid: owner.metadata.uid,
          controller: true,
        },
      ],
    });
    await createCertificate(admin, ns, 'held', {
      certificate: { inline: partner.pem },
      adoption: 'Always',
    });
    const c = await waitForCondition(admin, ns, 'held', 'Ready', 'False', 'StoreConflict');
    expect(condition(c, 'Synced')?.message).toMatch(
      /belongs to ConfigMap someone \(v1\); the operator never takes it, whatever spec\.adoption says/,
    );
    expect((await secretOf('held-b2bcert')).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );
  });
});

const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';

interface AzureCert {
  properties: { publicCertificate?: string; metadata?: Record<string, unknown>; key?: unknown };
}

describe('adoption in the azure store', () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let ns: string;
  let op: OperatorProcess | undefined;
  let accountId: string;
  const derOf = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const azureCert = (name: string) => arm.certificate(accountId, name) as AzureCert | undefined;
  const putsTo = (name: string) =>
    arm.calls.filter((c) => c.method === 'PUT' && c.path.endsWith(`/certificates/${name}`));
  /** Every write (PUT, PATCH, DELETE) to that entry, from the ARM server's request log. */
  const writesTo = (name: string) =>
    arm.calls.filter(
      (c) =>
        ['PUT', 'PATCH', 'DELETE'].includes(c.method) &&
        c.path.toLowerCase().endsWith(`/certificates/${name.toLowerCase()}`),
    );

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    accountId = arm.addAccount(SUB, RG, 'contoso-ia', 'Standard');
    ns = await createNamespace(admin, 'adoptaz');
    await createAccount(admin, ns, 'contoso', {
      store: {
        azure: {
          subscriptionId: SUB,
          resourceGroup: RG,
          name: 'contoso-ia',
          auth: { managedIdentity: {} },
        },
      },
    });
    op = startOperatorProcess(ns, arm, { recheckInterval: '3s' });
  });
  afterEach(() => expect(arm.invalidBodies).toEqual([]));
  afterAll(async () => {
    const code = await op?.stop();
    await arm?.stop();
    expect(code).toBe(0);
  });

  it('takes over an entry marked for the same namespace/name with another uid, with Normal Adopted: without a write when it holds everything, else one PUT moving the marker', async () => {
    const cert = selfSigned('ec256');
    const marked = (name: string, metadata: Record<string, unknown>) =>
      arm.putForeign(accountId, name, {
        properties: {
          publicCertificate: derOf(cert.pem),
          metadata: {
            ...metadata,
            b2bOperator: {
              certificate: `${ns}/${name}`,
              uid: 'uid-of-the-old-cluster',
              contentHash: 'x',
            },
          },
        },
      });
    marked('rebuilt', { partner: 'old' });
    marked('restored', {});
    const held = structuredClone(azureCert('restored'));
    await kubectlApply(ns, certificateManifest('rebuilt', { certificate: { inline: cert.pem } }));
    await kubectlApply(ns, certificateManifest('restored', { certificate: { inline: cert.pem } }));

    // spec.metadata differs from the entry's: one PUT, which moves the marker to the new uid.
    const c = await waitForCondition(admin, ns, 'rebuilt', 'Ready', 'True', 'Ready', 60_000);
    const metadata = azureCert('rebuilt')?.properties.metadata;
    expect(Object.keys(metadata ?? {})).toEqual(['b2bOperator']);
    expect(metadata?.b2bOperator).toMatchObject({
      certificate: `${ns}/rebuilt`,
      uid: c.metadata.uid,
    });
    expect(writesTo('rebuilt').map((w) => w.method)).toEqual(['PUT']);
    const event = await eventFor(admin, ns, 'rebuilt', 'Adopted');
    expect(event.type).toBe('Normal');
    expect(event.message).toMatch(
      /earlier Certificate of this name \(uid uid-of-the-old-cluster\)/,
    );

    // Everything already as the Certificate says: taken over on the status's record, no write.
    await waitForCondition(admin, ns, 'restored', 'Ready', 'True', 'Ready', 60_000);
    const taken = await eventFor(admin, ns, 'restored', 'Adopted');
    expect(taken.message).toMatch(/uid uid-of-the-old-cluster.*no write was needed/);
    const restored = await eventually(async () => {
      const now = await getCertificate(admin, ns, 'restored');
      return now?.status?.store?.adopted ? now : undefined;
    }, 'status.store.adopted');
    expect(restored.status?.store?.ref?.toLowerCase()).toBe(
      `${accountId}/certificates/restored`.toLowerCase(),
    );
    await new Promise((r) => setTimeout(r, 4_000));
    expect(writesTo('restored')).toEqual([]);
    expect(azureCert('restored')).toEqual(held);
  });

  it('adopts an unmarked identical entry with zero writes to Azure, recorded in status.store.adopted; the next content change is one PUT that carries the marker', async () => {
    const cert = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
    const existing = {
      publicCertificate: derOf(cert.pem),
      metadata: { partner: 'fabrikam', addedBy: 'portal' },
    };
    arm.putForeign(accountId, 'portal', { properties: existing });
    await kubectlApply(
      ns,
      certificateManifest('portal', {
        certificate: { inline: cert.pem },
        metadata: { addedBy: 'portal', partner: 'fabrikam' },
      }),
    );
    const c = await waitForCondition(admin, ns, 'portal', 'Ready', 'True', 'Ready', 60_000);
    const event = await eventFor(admin, ns, 'portal', 'Adopted');
    expect(event.type).toBe('Normal');
    expect(event.message).toMatch(
      /^adopted the certificate portal of the Azure integration account contoso-ia: .*no write was needed/,
    );
    expect(writesTo('portal')).toEqual([]);
    expect(azureCert('portal')?.properties).toEqual(existing);
    expect(c.status?.store?.ref?.toLowerCase()).toBe(
      `${accountId}/certificates/portal`.toLowerCase(),
    );
    expect(c.status?.store?.adopted?.contentHash).toMatch(/^[0-9a-f]{32}$/);
    expect(condition(c, 'Synced')?.status).toBe('True');
    // Rechecks (every 3 s here) find it held on the record and current: still no write.
    await new Promise((r) => setTimeout(r, 7_000));
    expect(writesTo('portal')).toEqual([]);

    // A new certificate: the write needed anyway carries the marker; not drift.
    const renewed = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] }, 3);
    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'portal' }), {
      spec: { certificate: { inline: renewed.pem } },
    });
    await eventually(
      () => Promise.resolve(writesTo('portal').length === 1 || undefined),
      'the PUT',
    );
    const put = writesTo('portal')[0]!;
    expect(put.method).toBe('PUT');
    const body = put.body as AzureCert;
    expect(body.properties.publicCertificate).toBe(derOf(renewed.pem));
    expect(body.properties.metadata).toMatchObject({
      ...existing.metadata,
      b2bOperator: { certificate: `${ns}/portal`, uid: c.metadata.uid },
    });
    const after = await eventually(async () => {
      const now = await getCertificate(admin, ns, 'portal');
      return now?.status?.thumbprint === thumbprint(renewed.der) && !now.status.store?.adopted
        ? now
        : undefined;
    }, 'the status of the renewed certificate, without status.store.adopted');
    expect(after.status?.store?.ref).toBe(c.status?.store?.ref);
    await new Promise((r) => setTimeout(r, 7_000));
    expect(writesTo('portal')).toHaveLength(1);
    expect(await eventsFor(admin, ns, 'portal', 'StoreRestored')).toEqual([]);
  });

  it('restores an entry adopted without a write that is then changed in Azure (Warning StoreRestored), and Delete removes an adopted unmarked entry', async () => {
    const cert = selfSigned('ec256', {}, 4);
    arm.putForeign(accountId, 'drifting', { properties: { publicCertificate: derOf(cert.pem) } });
    arm.putForeign(accountId, 'leaving', { properties: { publicCertificate: derOf(cert.pem) } });
    await kubectlApply(ns, certificateManifest('drifting', { certificate: { inline: cert.pem } }));
    await kubectlApply(ns, certificateManifest('leaving', { certificate: { inline: cert.pem } }));
    for (const name of ['drifting', 'leaving']) {
      await waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready', 60_000);
      await eventually(
        async () => (await getCertificate(admin, ns, name))?.status?.store?.adopted,
        `status.store.adopted of ${name}`,
      );
      expect(writesTo(name)).toEqual([]);
    }

    // Someone changes the adopted entry in the portal: it is ours, so it is put back.
    arm.putForeign(accountId, 'drifting', {
      properties: { publicCertificate: derOf(cert.pem), metadata: { edited: 'by hand' } },
    });
    const restored = await eventFor(admin, ns, 'drifting', 'StoreRestored');
    expect(restored.type).toBe('Warning');
    expect(restored.message).toContain('(metadata)');
    expect(writesTo('drifting').map((w) => w.method)).toEqual(['PUT']);
    expect(azureCert('drifting')?.properties.metadata).toMatchObject({
      b2bOperator: { certificate: `${ns}/drifting` },
    });
    expect(azureCert('drifting')?.properties.metadata).not.toHaveProperty('edited');

    // deletionPolicy Delete (the default): the adopted entry goes with the Certificate.
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'leaving' }));
    await eventually(
      () => Promise.resolve(azureCert('leaving') ? undefined : true),
      'the entry deleted',
    );
    expect(writesTo('leaving').map((w) => w.method)).toEqual(['DELETE']);
  });

  it('holds only the entry the status records: a foreign unmarked entry at a new spec.azureName stays untouched (StoreConflict), and the adopted one stays', async () => {
    const cert = selfSigned('ec256', {}, 5);
    const theirs = selfSigned('ec256', {}, 6);
    arm.putForeign(accountId, 'recorded', { properties: { publicCertificate: derOf(cert.pem) } });
    arm.putForeign(accountId, 'foreign', { properties: { publicCertificate: derOf(theirs.pem) } });
    await kubectlApply(ns, certificateManifest('recorded', { certificate: { inline: cert.pem } }));
    await waitForCondition(admin, ns, 'recorded', 'Ready', 'True', 'Ready', 60_000);
    await eventually(
      async () => (await getCertificate(admin, ns, 'recorded'))?.status?.store?.adopted,
      'status.store.adopted',
    );
    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'recorded' }), {
      spec: { azureName: 'foreign' },
    });
    const c = await waitForCondition(
      admin,
      ns,
      'recorded',
      'Ready',
      'False',
      'StoreConflict',
      60_000,
    );
    expect(condition(c, 'Synced')?.message).toMatch(
      /certificate foreign .*differs from it \(properties\.publicCertificate\); it is left untouched/,
    );
    expect(c.status?.store?.ref?.toLowerCase()).toMatch(/\/certificates\/recorded$/);
    await new Promise((r) => setTimeout(r, 4_000));
    expect(writesTo('foreign')).toEqual([]);
    expect(writesTo('recorded')).toEqual([]);
    expect(azureCert('foreign')?.properties.publicCertificate).toBe(derOf(theirs.pem));
    expect(azureCert('recorded')?.properties.publicCertificate).toBe(derOf(cert.pem));
  });

  it('leaves an unmarked different entry alone (StoreConflict naming properties.publicCertificate); Always overwrites it with Warning Overwritten naming the old thumbprint', async () => {
    const theirs = selfSigned('ec256');
    const ours = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
    arm.putForeign(accountId, 'terraform', {
      properties: { publicCertificate: derOf(theirs.pem), metadata: { by: 'terraform' } },
    });
    await kubectlApply(ns, certificateManifest('terraform', { certificate: { inline: ours.pem } }));
    const c = await waitForCondition(
      admin,
      ns,
      'terraform',
      'Ready',
      'False',
      'StoreConflict',
      60_000,
    );
    expect(condition(c, 'Synced')?.message).toMatch(
      /differs from it \(properties\.publicCertificate\); it is left untouched\. Set spec\.adoption: Always to overwrite it, or delete it in Azure, or set spec\.azureName/,
    );
    expect(putsTo('terraform')).toHaveLength(0);

    await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'terraform' }), {
      spec: { adoption: 'Always' },
    });
    await waitForCondition(admin, ns, 'terraform', 'Ready', 'True', 'Ready', 60_000);
    expect(azureCert('terraform')?.properties.publicCertificate).toBe(derOf(ours.pem));
    const event = await eventFor(admin, ns, 'terraform', 'Overwritten');
    expect(event.type).toBe('Warning');
    expect(event.message).toContain(`thumbprint ${thumbprint(theirs.der)}`);
  });

  it('Never: StoreConflict for an unmarked identical entry, and no PUT', async () => {
    const cert = selfSigned('ec256');
    arm.putForeign(accountId, 'hands-off', { properties: { publicCertificate: derOf(cert.pem) } });
    await createCertificate(admin, ns, 'hands-off', {
      certificate: { inline: cert.pem },
      adoption: 'Never',
    });
    const c: Certificate = await waitForCondition(
      admin,
      ns,
      'hands-off',
      'Ready',
      'False',
      'StoreConflict',
      60_000,
    );
    expect(condition(c, 'Synced')?.message).toMatch(/spec\.adoption is Never/);
    expect(putsTo('hands-off')).toHaveLength(0);
  });
});

const { vaultUrl } = testenv();

describe.skipIf(!vaultUrl)(
  `adoption in the azure store, Private certificates${vaultUrl ? '' : `: ${NO_EMULATOR}`}`,
  () => {
    let admin: KubeClient;
    let arm: ArmTestServer;
    let ns: string;
    let op: OperatorProcess | undefined;
    let case_ = 0;

    /** An account whose vault grants the Logic Apps principal the four operations. */
    async function setUp() {
      const n = ++case_;
      const slot = 60 + n;
      const keyName = `adopt-key-${n}-${Date.now()}`;
      const key = await importKey(vaultAdmin(), keyName, keyPair('rsa2048', slot).privateKey);
      const accountName = `adopt-ia-${n}`;
      const accountId = arm.addAccount(SUB, RG, accountName, 'Standard');
      const vaultId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/adopt-kv-${n}`;
      arm.addVault({
        id: vaultId,
        tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        vaultUri: vaultUrl!,
        enableRbacAuthorization: false,
        accessPolicies: [
          {
            tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
            objectId: arm.servicePrincipals.get(LOGIC_APPS_APP_ID)!,
            permissions: { keys: ['List', 'Get', 'Decrypt', 'Sign'] },
          },
        ],
        listedKeys: [keyName],
      });
      await createAccount(admin, ns, accountName, {
        store: {
          azure: {
            subscriptionId: SUB,
            resourceGroup: RG,
            name: accountName,
            auth: { managedIdentity: {} },
          },
        },
        keyVaults: [
          {
            name: 'main',
            azure: { vaultUrl: vaultUrl!, resourceId: vaultId, auth: { managedIdentity: {} } },
          },
        ],
      });
      return {
        name: `cert-${n}`,
        accountName,
        accountId,
        vaultId,
        keyName,
        version: key.properties.version!,
        pem: privateUsable({}, slot).pem,
      };
    }

    const createPrivate = (c: Awaited<ReturnType<typeof setUp>>) =>
      createCertificate(admin, ns, c.name, {
        integrationAccount: { name: c.accountName },
        type: 'Private',
        certificate: { inline: c.pem },
        key: { vault: 'main', name: c.keyName },
      });
    const derOf = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const putsTo = (name: string) =>
      arm.calls.filter(
        (call) => call.method === 'PUT' && call.path.endsWith(`/certificates/${name}`),
      );

    beforeAll(async () => {
      admin = adminClient();
      arm = await new ArmTestServer().start();
      ns = await createNamespace(admin, 'adoptpriv');
      op = startOperatorProcess(ns, arm, { useVaultEmulatorTokens: true, recheckInterval: '3s' });
    });
    afterEach(() => expect(arm.invalidBodies).toEqual([]));
    afterAll(async () => {
      const code = await op?.stop();
      await arm?.stop();
      expect(code).toBe(0);
    });

    it('adopts an unmarked Private entry with the same certificate and key (vault ID in other casing) without a write to Azure', async () => {
      const c = await setUp();
      const existingKey = {
        keyVault: { id: c.vaultId.toLowerCase() },
        keyName: c.keyName,
        keyVersion: c.version,
      };
      arm.putForeign(c.accountId, c.name, {
        properties: { publicCertificate: derOf(c.pem), key: existingKey },
      });
      await createPrivate(c);
      await waitForCondition(admin, ns, c.name, 'Ready', 'True', 'Ready', 90_000);
      const adopted = await eventFor(admin, ns, c.name, 'Adopted');
      expect(adopted.type).toBe('Normal');
      expect(adopted.message).toMatch(/no write was needed/);
      const cert = await eventually(async () => {
        const now = await getCertificate(admin, ns, c.name);
        return now?.status?.store?.adopted ? now : undefined;
      }, 'status.store.adopted');
      expect(cert.status?.store?.ref?.toLowerCase()).toBe(
        `${c.accountId}/certificates/${c.name}`.toLowerCase(),
      );
      expect(arm.writes()).toEqual([]);
      expect(
        (arm.certificate(c.accountId, c.name) as { properties: { key: unknown } }).properties.key,
      ).toEqual(existingKey);
      // Rechecks (every 3 s) find it held on the record and current: still no write.
      await new Promise((r) => setTimeout(r, 7_000));
      expect(putsTo(c.name)).toHaveLength(0);
      expect(arm.writes()).toEqual([]);
    });

    it('leaves an unmarked Private entry pinned to another key version alone, naming properties.key.keyVersion', async () => {
      const c = await setUp();
      arm.putForeign(c.accountId, c.name, {
        properties: {
          publicCertificate: derOf(c.pem),
          key: { keyVault: { id: c.vaultId }, keyName: c.keyName, keyVersion: '0123456789abcdef' },
        },
      });
      await createPrivate(c);
      const cert = await waitForCondition(
        admin,
        ns,
        c.name,
        'Ready',
        'False',
        'StoreConflict',
        90_000,
      );
      expect(condition(cert, 'Synced')?.message).toMatch(
        /differs from it \(properties\.key\.keyVersion\).*spec\.adoption: Always/,
      );
      expect(putsTo(c.name)).toHaveLength(0);
    });
  },
);
