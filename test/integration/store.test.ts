// The kubernetes store against the real API server: hand edits put back, a foreign Secret's
// deletion noticed at once, names of any valid length, and no cost in the steady state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, Labels } from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { waitForEvents } from '../support/events.ts';
import { WRITE_METHODS, startOperator, type RunningOperator } from '../support/operator.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

interface Secret {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string; kind: string }[];
    resourceVersion?: string;
  };
  data?: Record<string, string>;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (s: string) => Buffer.from(s).toString('base64');
const decoded = (s: Secret, key: string) =>
  Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');

describe('the kubernetes store', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const other = selfSigned('ec256', {});
  const secretOf = (name: string) =>
    admin.get<Secret>(resourcePath(SecretType, { namespace: ns, name }));

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'store');
    await createAccount(admin, ns, 'contoso');
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('puts back a hand-edited tls.crt, metadata.json and a removed label, with a StoreRestored event', async () => {
    await createCertificate(admin, ns, 'edited', {
      certificate: { inline: partner.pem },
      metadata: { partner: 'fabrikam' },
    });
    await waitForCondition(admin, ns, 'edited', 'Ready', 'True');
    const path = resourcePath(SecretType, { namespace: ns, name: 'edited-b2bcert' });
    const restored = (check: (s: Secret) => boolean, what: string) =>
      eventually(async () => {
        const s = await secretOf('edited-b2bcert');
        return check(s) ? s : undefined;
      }, what);

    // The content-hash annotation is left alone, as a hand edit would.
    await admin.patch(path, { data: { 'tls.crt': b64(other.pem) } });
    await restored((s) => decoded(s, 'tls.crt') === partner.pem, 'tls.crt restored');

    await admin.patch(path, { data: { 'metadata.json': b64('{"partner":"mallory"}') } });
    await restored(
      (s) => decoded(s, 'metadata.json') === '{"partner":"fabrikam"}',
      'metadata.json restored',
    );

    await admin.patch(
      path,
      [{ op: 'remove', path: '/metadata/labels/integration.b2b.dev~1type' }],
      'json',
    );
    const back = await restored(
      (s) => s.metadata.labels?.[Labels.type] === 'Public',
      'label restored',
    );
    expect(back.metadata.labels?.[Labels.certificate]).toBe('edited');

    const events = await waitForEvents(
      admin,
      ns,
      { kind: 'Certificate', name: 'edited', reason: 'StoreRestored' },
      { count: 3 },
    );
    expect(events[0]!.type).toBe('Warning');
    expect(events.map((e) => e.message).join('\n')).toMatch(/data tls\.crt/);
    const c = await waitForCondition(admin, ns, 'edited', 'Ready', 'True');
    expect(condition(c, 'Synced')?.status).toBe('True');
  });

  it('puts back the labels of a Retain entry (no ownerReference), the uid label included', async () => {
    await createCertificate(admin, ns, 'retained', {
      certificate: { inline: partner.pem },
      deletionPolicy: 'Retain',
    });
    await waitForCondition(admin, ns, 'retained', 'Ready', 'True');
    const before = await secretOf('retained-b2bcert');
    expect(before.metadata.ownerReferences).toBeUndefined();
    await admin.patch(resourcePath(SecretType, { namespace: ns, name: 'retained-b2bcert' }), {
      metadata: { labels: { [Labels.certificateUid]: null, [Labels.certificate]: null } },
    });
    const back = await eventually(async () => {
      const s = await secretOf('retained-b2bcert');
      return s.metadata.labels?.[Labels.certificateUid] && s.metadata.labels[Labels.certificate]
        ? s
        : undefined;
    }, 'labels restored');
    expect(back.metadata.labels?.[Labels.certificate]).toBe('retained');
    const c = await waitForCondition(admin, ns, 'retained', 'Ready', 'True');
    expect(condition(c, 'Synced')?.status).toBe('True');
  });

  it('reads and writes nothing of the store Secret on reconciles where nothing changed', async () => {
    await createCertificate(admin, ns, 'quiet', { certificate: { inline: partner.pem } });
    await waitForCondition(admin, ns, 'quiet', 'Ready', 'True');
    await settle(1_500);
    const secretRequests = () =>
      op.requests.filter((r) => r.path.includes(`/secrets/quiet-b2bcert`)).length;
    const before = secretRequests();
    const reconciles = () =>
      op.metrics.reconcileTotal
        .get()
        .values.filter((v) => v.labels.kind === 'Certificate')
        .reduce((sum, v) => sum + v.value, 0);
    const reconcilesBefore = reconciles();
    // Each label change is a new resourceVersion of the Certificate: a reconcile.
    for (let i = 0; i < 3; i++) {
      await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'quiet' }), {
        metadata: { labels: { touched: String(i) } },
      });
      await settle(500);
    }
    await settle(1_000);
    expect(reconciles()).toBeGreaterThanOrEqual(reconcilesBefore + 3);
    expect(secretRequests()).toBe(before);
  });

  it('syncs at once when the foreign Secret that caused StoreConflict is deleted', async () => {
    await admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name: 'taken-b2bcert' },
      stringData: { mine: 'yes' },
    });
    await createCertificate(admin, ns, 'taken', { certificate: { inline: partner.pem } });
    await waitForCondition(admin, ns, 'taken', 'Ready', 'False', 'StoreConflict');
    await admin.delete(resourcePath(SecretType, { namespace: ns, name: 'taken-b2bcert' }));
    await waitForCondition(admin, ns, 'taken', 'Ready', 'True', undefined, 20_000);
    const secret = await secretOf('taken-b2bcert');
    expect(decoded(secret, 'tls.crt')).toBe(partner.pem);
  });

  it('syncs certificates and accounts whose names are too long for a label or a Secret name', async () => {
    const account = `${'contoso-'.repeat(12)}long`; // 100 characters
    const name = `${'fabrikam.'.repeat(27)}partner`; // 250 characters
    await createAccount(admin, ns, account);
    await createCertificate(admin, ns, name, {
      integrationAccount: { name: account },
      certificate: { inline: partner.pem },
    });
    const c = await waitForCondition(admin, ns, name, 'Ready', 'True');
    const ref = c.status?.store?.ref ?? '';
    expect(ref.length).toBeLessThanOrEqual(253);
    const secret = await secretOf(ref);
    expect(decoded(secret, 'tls.crt')).toBe(partner.pem);
    expect(secret.metadata.annotations?.[Labels.certificate]).toBe(name);
    expect(secret.metadata.annotations?.[Labels.integrationAccount]).toBe(account);
    for (const value of Object.values(secret.metadata.labels ?? {}))
      expect(value.length).toBeLessThanOrEqual(63);
  });
});

describe('the kubernetes store across an operator restart', () => {
  let admin: KubeClient;
  let ns: string;
  const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
  const names = ['r-0', 'r-1', 'r-2'];
  const secretOf = (name: string) =>
    admin.get<Secret>(resourcePath(SecretType, { namespace: ns, name }));
  /** Every certificate reconciled by this operator (its metrics series are set each time). */
  const confirmed = (op: RunningOperator, which: string[]) =>
    eventually(() => {
      const text = op.metrics.registry.metrics();
      return which.every((n) => text.includes(`name="${n}",integration_account="contoso"`))
        ? true
        : undefined;
    }, 'every certificate confirmed');

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'restart');
    await createAccount(admin, ns, 'contoso');
    const op = await startOperator(ns);
    try {
      for (const n of names)
        await createCertificate(admin, ns, n, { certificate: { inline: partner.pem } });
      for (const n of names) await waitForCondition(admin, ns, n, 'Ready', 'True');
      await settle(1_500); // the account's count update
    } finally {
      await op.stop();
    }
  });

  it('confirms its store Secrets from the metadata cache: no read of any of them, no write', async () => {
    const op = await startOperator(ns);
    try {
      await confirmed(op, names);
      await settle(1_000);
      const touched = op.requests.filter((r) => r.path.includes('-b2bcert'));
      expect(touched, JSON.stringify(touched)).toEqual([]);
      const writes = op.requests.filter((r) => WRITE_METHODS.has(r.method));
      expect(writes, JSON.stringify(writes)).toEqual([]);
    } finally {
      await op.stop();
    }
  });

  it('reads and puts back a store Secret edited while the operator was down', async () => {
    await admin.patch(resourcePath(SecretType, { namespace: ns, name: 'r-1-b2bcert' }), {
      data: { 'tls.crt': b64('edited while nobody watched') },
    });
    const op = await startOperator(ns);
    try {
      await eventually(async () => {
        const s = await secretOf('r-1-b2bcert');
        return decoded(s, 'tls.crt') === partner.pem ? s : undefined;
      }, 'the edit put back');
      await confirmed(op, names);
      // Only the edited one was read; the others were confirmed from the cache.
      const reads = op.requests.filter((r) => r.method === 'GET' && r.path.includes('-b2bcert'));
      expect(new Set(reads.map((r) => r.path.split('/').pop()))).toEqual(new Set(['r-1-b2bcert']));
    } finally {
      await op.stop();
    }
  });

  it('records the Secret version with a status write for another reason after an upgrade (no write of its own)', async () => {
    const statusPath = resourcePath(CertificateResource, {
      namespace: ns,
      name: 'r-2',
      subresource: 'status',
    });
    // What an earlier version of the operator left: no resourceVersion in status.store.
    await admin.patch(statusPath, { status: { store: { resourceVersion: null } } });
    const op = await startOperator(ns);
    try {
      await confirmed(op, names);
      await settle(1_000);
      expect((await getCertificate(admin, ns, 'r-2'))?.status?.store?.resourceVersion).toBe(
        undefined,
      );
      // A spec change that leaves the Secret as it is: a status write for observedGeneration.
      const changed = await admin.patch<{ metadata: { generation: number } }>(
        resourcePath(CertificateResource, { namespace: ns, name: 'r-2' }),
        { spec: { expiryWarning: '700h' } },
      );
      const current = await eventually(async () => {
        const c = await getCertificate(admin, ns, 'r-2');
        return c?.status?.observedGeneration === changed.metadata.generation ? c : undefined;
      }, 'the change observed');
      const secret = await secretOf('r-2-b2bcert');
      expect(current.status?.store?.resourceVersion).toBe(secret.metadata.resourceVersion);
    } finally {
      await op.stop();
    }
    const again = await startOperator(ns);
    try {
      await confirmed(again, names);
      await settle(1_000);
      const reads = again.requests.filter((r) => r.path.includes('r-2-b2bcert'));
      expect(reads, JSON.stringify(reads)).toEqual([]);
    } finally {
      await again.stop();
    }
  });
});
