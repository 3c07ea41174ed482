// Private certificates whose key is in a kubernetes vault (a Secret with tls.key): the key is
// matched and really used (sign, decrypt) before Ready, and it never leaves its Secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource } from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable } from '../support/certs.ts';
import { keyPair } from '../support/keys.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { listEvents, waitForEvents } from '../support/events.ts';
import { startOperator, type RunningOperator } from '../support/operator.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

const ours = keyPair('rsa2048', 11);
const other = keyPair('rsa2048', 12);
const certificatePem = privateUsable({}, 11).pem;
const keyPemOf = (pair: typeof ours) =>
  pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const keyBody = keyPemOf(ours).split('\n')[1]!.slice(0, 24);

describe('Private certificates with a kubernetes vault', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const keySecret = (name: string, data: Record<string, string>) =>
    admin.create(resourcePath(SecretType, { namespace: ns }), {
      metadata: { name },
      data: Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
    });
  const privateCert = (name: string, keyName: string) =>
    createCertificate(admin, ns, name, {
      type: 'Private',
      certificate: { inline: certificatePem },
      key: { vault: 'in-cluster', name: keyName },
    });

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'private-k8s');
    await createAccount(admin, ns, 'contoso', {
      keyVaults: [{ name: 'in-cluster', kubernetes: {} }],
    });
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('is Ready with the key verified, and the store names the key without holding it', async () => {
    await keySecret('signing-key', { 'tls.crt': certificatePem, 'tls.key': keyPemOf(ours) });
    await privateCert('signing', 'signing-key');
    const c = await waitForCondition(admin, ns, 'signing', 'Ready', 'True');
    expect(condition(c, 'KeyVaultAccessGranted')).toMatchObject({
      status: 'True',
      reason: 'AccessGranted',
    });
    expect(c.status?.key).toMatchObject({
      vaultUrl: `kubernetes://${ns}`,
      name: 'signing-key',
      grants: ['list', 'get', 'decrypt', 'sign'],
    });
    expect(c.status?.key?.version).toMatch(/^[0-9a-f]{32}$/);
    const stored = await admin.get<{ data: Record<string, string> }>(
      resourcePath(SecretType, { namespace: ns, name: 'signing-b2bcert' }),
    );
    expect(JSON.parse(Buffer.from(stored.data['key.json']!, 'base64').toString())).toEqual({
      vault: 'in-cluster',
      vaultUrl: `kubernetes://${ns}`,
      name: 'signing-key',
      version: c.status?.key?.version,
    });
    expect(Object.keys(stored.data).sort()).toEqual(['key.json', 'metadata.json', 'tls.crt']);
  });

  it('reports KeyMismatch for another key, KeyNotFound for a missing Secret or one without tls.key', async () => {
    await keySecret('wrong-key', { 'tls.key': keyPemOf(other) });
    await keySecret('no-key', { 'tls.crt': certificatePem });
    await privateCert('mismatch', 'wrong-key');
    await privateCert('missing', 'nowhere');
    await privateCert('keyless', 'no-key');
    const m = await waitForCondition(admin, ns, 'mismatch', 'Ready', 'False', 'KeyMismatch');
    expect(condition(m, 'KeyVaultAccessGranted')).toMatchObject({
      status: 'False',
      reason: 'KeyMismatch',
    });
    expect(condition(m, 'Stalled')?.status).toBe('True');
    const missing = await waitForCondition(admin, ns, 'missing', 'Ready', 'False', 'KeyNotFound');
    expect(condition(missing, 'Ready')?.message).toMatch(
      /Secret nowhere in namespace .* not found/,
    );
    const keyless = await waitForCondition(admin, ns, 'keyless', 'Ready', 'False', 'KeyNotFound');
    expect(condition(keyless, 'Ready')?.message).toMatch(/has no tls\.key/);
  });

  it('re-verifies when the key Secret appears later', async () => {
    await privateCert('late', 'late-key');
    await waitForCondition(admin, ns, 'late', 'Ready', 'False', 'KeyNotFound');
    await keySecret('late-key', { 'tls.key': keyPemOf(ours) });
    await waitForCondition(admin, ns, 'late', 'Ready', 'True');
  });

  it('reads the key Secret only when its resourceVersion changed', async () => {
    const keyGets = () =>
      op.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/secrets/counted-key'))
        .length;
    await keySecret('counted-key', { 'tls.key': keyPemOf(ours) });
    await privateCert('counted', 'counted-key');
    await waitForCondition(admin, ns, 'counted', 'Ready', 'True');
    const afterReady = keyGets();
    expect(afterReady).toBeGreaterThanOrEqual(1);

    // Spec edits reconcile the certificate (each waited for at its new generation); the key
    // Secret did not change, so it is not read again.
    for (let round = 0; round < 4; round++) {
      await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'counted' }), {
        spec: { metadata: { round: String(round) } },
      });
      await waitForCondition(admin, ns, 'counted', 'Ready', 'True');
    }
    expect(keyGets()).toBe(afterReady);

    // A new resourceVersion (here a label) is read once more; a rotated key is noticed.
    const secretPath = resourcePath(SecretType, { namespace: ns, name: 'counted-key' });
    await admin.patch(secretPath, { metadata: { labels: { touched: 'yes' } } });
    await eventually(() => Promise.resolve(keyGets() > afterReady || undefined), 'a new read');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(keyGets()).toBe(afterReady + 1);
    expect(condition(await getCertificate(admin, ns, 'counted'), 'Ready')?.status).toBe('True');
    await admin.patch(secretPath, {
      data: { 'tls.key': Buffer.from(keyPemOf(other)).toString('base64') },
    });
    await waitForCondition(admin, ns, 'counted', 'Ready', 'False', 'KeyMismatch');
  });

  it('keeps the key material out of status, events, logs and the store', async () => {
    const certs = await admin.list<{ items: unknown[] }>(
      `/apis/integration.b2b.dev/v1alpha1/namespaces/${ns}/certificates`,
    );
    // The KeyMismatch warnings (certificates mismatch and counted, above) are the events that
    // speak of the key; they are sent in the background, so wait for them before looking.
    await waitForEvents(admin, ns, { reason: 'KeyMismatch', type: 'Warning' }, { count: 2 });
    const events = await listEvents(admin, ns);
    const stored = await admin.list<{ items: { metadata: { name: string } }[] }>(
      `/api/v1/namespaces/${ns}/secrets?labelSelector=integration.b2b.dev/certificate`,
    );
    expect(stored.items.length).toBeGreaterThan(0);
    for (const [what, text] of [
      ['certificates', JSON.stringify(certs.items)],
      ['events', JSON.stringify(events)],
      ['logs', op.logs.join('\n')],
      ['store', JSON.stringify(stored.items) + stored.items.map((s) => JSON.stringify(s)).join('')],
    ] as const) {
      expect(text.includes(keyBody), `key material found in ${what}`).toBe(false);
      const decodedStore =
        what === 'store'
          ? JSON.stringify(stored.items).replace(/"([A-Za-z0-9+/=]{40,})"/g, (_, b64: string) =>
              Buffer.from(b64, 'base64').toString(),
            )
          : '';
      expect(decodedStore.includes(keyBody), `key material found decoded in ${what}`).toBe(false);
    }
  });
});
