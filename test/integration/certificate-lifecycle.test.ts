// Quota, time-based transitions, Private-certificate configuration reasons, metrics, and the
// promise that a converged operator writes nothing.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateResource,
  IntegrationAccountResource,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { privateUsable, selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { WRITE_METHODS, startOperator, type RunningOperator } from '../support/operator.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

describe('certificate lifecycle', () => {
  let admin: KubeClient;
  let ns: string;
  let op: RunningOperator;
  const partner = selfSigned('ec256');

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'lifecycle');
    await createAccount(admin, ns, 'contoso');
    await createAccount(admin, ns, 'small', { sku: 'Basic' });
    await createAccount(admin, ns, 'vaults', {
      keyVaults: [
        {
          name: 'main',
          azure: { vaultUrl: 'https://contoso-kv.vault.azure.net', auth: { workloadIdentity: {} } },
        },
        { name: 'in-cluster', kubernetes: {} },
      ],
    });
    await createAccount(admin, ns, 'evil', {
      keyVaults: [
        {
          name: 'main',
          azure: { vaultUrl: 'https://attacker.example.com', auth: { managedIdentity: {} } },
        },
      ],
    });
    op = await startOperator(ns);
  });
  afterAll(async () => op?.stop());

  it('gives QuotaExceeded to the newest certificates of a Basic account, and frees a slot on deletion', async () => {
    for (const name of ['q1', 'q2', 'q3']) {
      await createCertificate(admin, ns, name, {
        integrationAccount: { name: 'small' },
        certificate: { inline: partner.pem },
      });
      await new Promise((r) => setTimeout(r, 1100)); // distinct creation timestamps (second precision)
    }
    await waitForCondition(admin, ns, 'q1', 'Ready', 'True');
    await waitForCondition(admin, ns, 'q2', 'Ready', 'True');
    const q3 = await waitForCondition(admin, ns, 'q3', 'Ready', 'False', 'QuotaExceeded');
    expect(condition(q3, 'Stalled')?.reason).toBe('QuotaExceeded');
    expect(condition(q3, 'Ready')?.message).toMatch(/at most 2 certificates and this is number 3/);
    const account = await eventually(async () => {
      const a = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace: ns, name: 'small' }),
      );
      return a.status?.certificates?.total === 3 && a.status.certificates.ready === 2
        ? a
        : undefined;
    }, 'account counts');
    expect(account.status?.certificates).toEqual({ total: 3, ready: 2, quota: 2 });

    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'q1' }));
    await waitForCondition(admin, ns, 'q3', 'Ready', 'True');
    expect(condition(await getCertificate(admin, ns, 'q2'), 'Ready')?.status).toBe('True');
  });

  it('turns Expiring on within expiryWarning and CertificateExpired at notAfter, by itself', async () => {
    const notAfter = new Date(Date.now() + 9_000);
    const shortLived = selfSigned('ec256', { notBefore: new Date(Date.now() - 60_000), notAfter });
    await createCertificate(admin, ns, 'short', {
      certificate: { inline: shortLived.pem },
      expiryWarning: '6s',
    });
    const fresh = await waitForCondition(admin, ns, 'short', 'Ready', 'True');
    expect(condition(fresh, 'Expiring')?.status).toBe('False');
    const warned = await waitForCondition(
      admin,
      ns,
      'short',
      'Expiring',
      'True',
      'ExpiresSoon',
      15_000,
    );
    expect(condition(warned, 'Ready')?.status).toBe('True');
    const expired = await waitForCondition(
      admin,
      ns,
      'short',
      'Ready',
      'False',
      'CertificateExpired',
      20_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(notAfter.getTime() - 1000);
    expect(condition(expired, 'Stalled')?.reason).toBe('CertificateExpired');
    // Expired, not also expiring: nothing is left to warn of.
    expect(condition(expired, 'Expiring')).toMatchObject({
      status: 'False',
      reason: 'CertificateExpired',
    });
    // The last good version stays in the store.
    const secret = await admin.get<{ data: Record<string, string> }>(
      resourcePath(SecretType, { namespace: ns, name: 'short-b2bcert' }),
    );
    expect(Buffer.from(secret.data['tls.crt']!, 'base64').toString()).toBe(shortLived.pem);
  });

  it('reports Private configuration problems on KeyVaultAccessGranted', async () => {
    const pem = privateUsable().pem;
    await createCertificate(admin, ns, 'no-vault', {
      integrationAccount: { name: 'vaults' },
      type: 'Private',
      certificate: { inline: pem },
      key: { vault: 'other', name: 'k' },
    });
    const c = await waitForCondition(admin, ns, 'no-vault', 'Ready', 'False', 'VaultNotConfigured');
    expect(condition(c, 'KeyVaultAccessGranted')).toMatchObject({
      status: 'False',
      reason: 'VaultNotConfigured',
    });
    expect(condition(c, 'KeyVaultAccessGranted')?.message).toMatch(
      /its spec.keyVaults: main, in-cluster/,
    );

    const noDe = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] }).pem;
    await createCertificate(admin, ns, 'no-de', {
      integrationAccount: { name: 'vaults' },
      type: 'Private',
      certificate: { inline: noDe },
      key: { vault: 'main', name: 'k' },
    });
    const d = await waitForCondition(
      admin,
      ns,
      'no-de',
      'Ready',
      'False',
      'MissingDataEncipherment',
    );
    expect(condition(d, 'KeyVaultAccessGranted')?.status).toBe('Unknown');
  });

  it('reports a vault host that is not allowed on the account’s vault, and its Public certificates stay Ready', async () => {
    const a = await eventually(async () => {
      const acct = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace: ns, name: 'evil' }),
      );
      return acct.status?.keyVaults?.length ? acct : undefined;
    }, 'evil account status');
    expect(condition(a, 'Ready')?.status).toBe('True');
    expect(condition(a, 'Stalled')).toBeUndefined();
    expect(a.status?.keyVaults).toHaveLength(1);
    expect(a.status?.keyVaults?.[0]).toMatchObject({
      name: 'main',
      reachable: false,
      reason: 'VaultHostNotAllowed',
    });
    expect(a.status?.keyVaults?.[0]?.message).toMatch(
      /attacker\.example\.com is not an Azure Key Vault host/,
    );
    await createCertificate(admin, ns, 'evil-cert', {
      integrationAccount: { name: 'evil' },
      certificate: { inline: partner.pem },
    });
    await waitForCondition(admin, ns, 'evil-cert', 'Ready', 'True');
  });

  it('sends no request at all to a vault host that is not allowed', async () => {
    let connections = 0;
    const listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      await createAccount(admin, ns, 'local-vault', {
        keyVaults: [
          {
            name: 'main',
            azure: { vaultUrl: `https://127.0.0.1:${port}`, auth: { managedIdentity: {} } },
          },
        ],
      });
      await createCertificate(admin, ns, 'token-bait', {
        integrationAccount: { name: 'local-vault' },
        type: 'Private',
        certificate: { inline: privateUsable().pem },
        key: { vault: 'main', name: 'k' },
      });
      const c = await waitForCondition(
        admin,
        ns,
        'token-bait',
        'Ready',
        'False',
        'VaultHostNotAllowed',
      );
      expect(condition(c, 'KeyVaultAccessGranted')).toMatchObject({
        status: 'False',
        reason: 'VaultHostNotAllowed',
      });
      const a = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace: ns, name: 'local-vault' }),
      );
      expect(a.status?.keyVaults?.[0]).toMatchObject({
        reachable: false,
        reason: 'VaultHostNotAllowed',
      });
      await new Promise((r) => setTimeout(r, 1_000));
      expect(connections).toBe(0);
    } finally {
      listener.close();
    }
  });

  it('exports certificate metrics and removes the series of a deleted certificate', async () => {
    await createCertificate(admin, ns, 'measured', { certificate: { inline: partner.pem } });
    await waitForCondition(admin, ns, 'measured', 'Ready', 'True');
    const text = op.metrics.registry.metrics();
    expect(text).toMatch(
      new RegExp(
        `b2b_certificate_ready_status\\{namespace="${ns}",name="measured",integration_account="contoso",condition="True"\\} 1`,
      ),
    );
    expect(text).toMatch(
      new RegExp(
        `b2b_certificate_expiration_timestamp_seconds\\{namespace="${ns}",name="measured",integration_account="contoso",type="Public"\\} \\d+`,
      ),
    );
    expect(text).toMatch(
      /b2b_reconcile_total\{kind="Certificate",result="(success|requeue)"\} \d+/,
    );
    await admin.delete(resourcePath(CertificateResource, { namespace: ns, name: 'measured' }));
    await eventually(
      () => (op.metrics.registry.metrics().includes('name="measured"') ? undefined : true),
      'series removed',
    );
  });

  it('makes no API writes over a quiet period after convergence', async () => {
    for (let i = 0; i < 5; i++)
      await createCertificate(admin, ns, `quiet-${i}`, { certificate: { inline: partner.pem } });
    for (let i = 0; i < 5; i++) await waitForCondition(admin, ns, `quiet-${i}`, 'Ready', 'True');
    await new Promise((r) => setTimeout(r, 2_000)); // the account's delayed count update
    const writes = () =>
      op.requests.filter((r) => WRITE_METHODS.has(r.method) && !r.path.includes('/events'));
    const before = writes().length;
    const requestsBefore = op.requests.length;
    await new Promise((r) => setTimeout(r, 5_000));
    const during = writes().slice(before);
    expect(during, JSON.stringify(during)).toEqual([]);
    console.log(
      `quiet period: ${op.requests.length - requestsBefore} requests of any kind, ${during.length} writes in 5 s`,
    );
  });
});
