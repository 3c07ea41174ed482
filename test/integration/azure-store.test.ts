// The azure store end to end: the operator process (src/main.ts, as the non-admin operator
// user) against the real API server and the stateful ARM test server (test/support), which
// validates every request body with the Azure SDKs' own mappers. What this proves, and what
// only a real subscription can show: README, "The azure store".
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateResource,
  FINALIZER,
  IntegrationAccountResource,
  type IntegrationAccount,
} from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { waitForEvent } from '../support/events.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

const SUB = '34adfa4f-cedf-4dc0-ba29-b6d1a69ab345';
const RG = 'b2b-rg';

const azureStore = (name: string) => ({
  azure: { subscriptionId: SUB, resourceGroup: RG, name, auth: { managedIdentity: {} } },
});

interface AzureCert {
  properties: {
    publicCertificate?: string;
    metadata?: Record<string, unknown>;
    key?: unknown;
  };
}

describe('the azure store (operator process against the ARM test server)', () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let ns: string;
  let op: OperatorProcess | undefined;
  let accountId: string;

  const azureCert = (name: string) => arm.certificate(accountId, name) as AzureCert | undefined;
  const derOf = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    accountId = arm.addAccount(SUB, RG, 'contoso-ia', 'Standard');
    ns = await createNamespace(admin, 'azstore');
    await createAccount(admin, ns, 'contoso', { store: azureStore('contoso-ia') });
    op = startOperatorProcess(ns, arm, { recheckInterval: '3s' });
  });

  afterEach(() => {
    // Every body the operator sent matched the SDK's model.
    expect(arm.invalidBodies).toEqual([]);
  });

  afterAll(async () => {
    const code = await op?.stop();
    const output = op?.output() ?? '';
    await arm?.stop();
    expect(code).toBe(0);
    // No token ever reaches the logs.
    expect(arm.seenTokens.size).toBeGreaterThan(0);
    for (const token of arm.seenTokens) expect(output).not.toContain(token);
  });

  it('syncs a Public certificate with the marker, reports the Azure account, then writes nothing in steady state', async () => {
    const partner = selfSigned('rsa2048', { keyUsage: ['digitalSignature'] });
    await createCertificate(admin, ns, 'fabrikam', {
      certificate: { inline: partner.pem },
      metadata: { partner: 'fabrikam' },
    });
    const c = await waitForCondition(admin, ns, 'fabrikam', 'Ready', 'True', 'Ready', 60_000);
    expect(c.status?.store?.ref).toBe(`${accountId}/certificates/fabrikam`);
    expect(condition(c, 'Synced')?.message).toContain('Azure integration account certificate');
    const stored = azureCert('fabrikam');
    expect(stored?.properties.publicCertificate).toBe(derOf(partner.pem));
    expect(stored?.properties.key).toBeUndefined();
    expect(stored?.properties.metadata).toMatchObject({
      partner: 'fabrikam',
      b2bOperator: { certificate: `${ns}/fabrikam`, uid: c.metadata.uid },
    });
    // The account reports the Azure account as ARM does.
    const account = await eventually(async () => {
      const a = await admin.get<IntegrationAccount>(
        resourcePath(IntegrationAccountResource, { namespace: ns, name: 'contoso' }),
      );
      return a.status?.azure ? a : undefined;
    }, 'status.azure');
    expect(account.status).toMatchObject({
      storeType: 'azure',
      azure: { id: accountId, location: 'westeurope', sku: 'Standard' },
      certificates: { quota: 1000 },
    });
    expect(
      arm.calls.some((call) => call.apiVersion === '2019-05-01' && call.method === 'PUT'),
    ).toBe(true);
    // Steady state: rechecks (every 3 s here) GET and never PUT again.
    const puts = arm.writes().length;
    const gets = arm.calls.filter(
      (call) => call.method === 'GET' && call.path.endsWith('/certificates/fabrikam'),
    ).length;
    await new Promise((r) => setTimeout(r, 7_000));
    expect(arm.writes().length).toBe(puts);
    expect(
      arm.calls.filter(
        (call) => call.method === 'GET' && call.path.endsWith('/certificates/fabrikam'),
      ).length,
    ).toBeGreaterThan(gets);
  });

  it('never overwrites a certificate it did not write (StoreConflict)', async () => {
    const foreign = {
      properties: { publicCertificate: 'Zm9yZWlnbg==', metadata: { owner: 'portal' } },
    };
    arm.putForeign(accountId, 'partner-x', foreign);
    await createCertificate(admin, ns, 'partner-x', {
      certificate: { inline: selfSigned('ec256').pem },
    });
    const c = await waitForCondition(
      admin,
      ns,
      'partner-x',
      'Ready',
      'False',
      'StoreConflict',
      60_000,
    );
    expect(condition(c, 'Stalled')?.status).toBe('True');
    expect(condition(c, 'Synced')?.message).toMatch(/left untouched.*spec\.azureName/);
    expect(azureCert('partner-x')?.properties).toEqual(foreign.properties);
    expect(arm.writes().some((w) => w.path.endsWith('/certificates/partner-x'))).toBe(false);
  });

  it('restores its entry when it was changed in Azure, with a StoreRestored event', async () => {
    await createCertificate(admin, ns, 'drifty', {
      certificate: { inline: selfSigned('ec256').pem },
      metadata: { partner: 'drifty' },
    });
    await waitForCondition(admin, ns, 'drifty', 'Ready', 'True', 'Ready', 60_000);
    const good = azureCert('drifty')!;
    arm.putForeign(accountId, 'drifty', {
      properties: {
        ...good.properties,
        metadata: { ...good.properties.metadata, partner: 'mallory' },
      },
    });
    await eventually(
      () =>
        Promise.resolve(
          azureCert('drifty')?.properties.metadata?.partner === 'drifty' ? true : undefined,
        ),
      'the drift restored on a recheck',
      30_000,
    );
    const drift = await waitForEvent(admin, ns, {
      kind: 'Certificate',
      name: 'drifty',
      reason: 'StoreRestored',
    });
    expect(drift.message).toMatch(
      /^Azure integration account certificate \/subscriptions\/.*\/drifty was changed by someone else \(metadata\); restored/,
    );
  });

  it('deletes its Azure certificate with deletionPolicy Delete, and keeps it with Retain', async () => {
    await createCertificate(admin, ns, 'gone', {
      certificate: { inline: selfSigned('ec256').pem },
    });
    await createCertificate(admin, ns, 'kept', {
      certificate: { inline: selfSigned('ec256').pem },
      deletionPolicy: 'Retain',
    });
    const gone = await waitForCondition(admin, ns, 'gone', 'Ready', 'True', 'Ready', 60_000);
    const kept = await waitForCondition(admin, ns, 'kept', 'Ready', 'True', 'Ready', 60_000);
    // No garbage collector reaches Azure: Delete needs the operator; Retain has nothing to do.
    expect(gone.metadata.finalizers).toContain(FINALIZER);
    expect(kept.metadata.finalizers ?? []).not.toContain(FINALIZER);
    for (const name of ['gone', 'kept'])
      await admin.delete(resourcePath(CertificateResource, { namespace: ns, name }));
    await eventually(
      async () =>
        (await getCertificate(admin, ns, 'gone')) === undefined &&
        (await getCertificate(admin, ns, 'kept')) === undefined
          ? true
          : undefined,
      'both Certificates gone (finalizer done)',
    );
    expect(azureCert('gone')).toBeUndefined();
    expect(azureCert('kept')).toBeDefined();
  });

  it('keeps the last good version while ARM is down, and syncs once it is back', async () => {
    await createCertificate(admin, ns, 'outage', {
      certificate: { inline: selfSigned('ec256').pem },
      metadata: { v: '1' },
    });
    await waitForCondition(admin, ns, 'outage', 'Ready', 'True', 'Ready', 60_000);
    arm.setDown(true);
    try {
      await admin.patch(resourcePath(CertificateResource, { namespace: ns, name: 'outage' }), {
        spec: { metadata: { v: '2' } },
      });
      const c = await waitForCondition(
        admin,
        ns,
        'outage',
        'Ready',
        'False',
        'StoreWriteFailed',
        60_000,
      );
      expect(condition(c, 'Reconciling')?.status).toBe('True');
      expect(azureCert('outage')?.properties.metadata?.v).toBe('1');
    } finally {
      arm.setDown(false);
    }
    await waitForCondition(admin, ns, 'outage', 'Ready', 'True', 'Ready', 90_000);
    expect(azureCert('outage')?.properties.metadata?.v).toBe('2');
  });

  it('honours Retry-After through a 429 storm with at most 4 ARM requests in flight', async () => {
    arm.peakInFlight = 0;
    arm.faults.push({ status: 429, retryAfterSeconds: 1, times: 12 });
    const names = Array.from({ length: 6 }, (_, i) => `storm-${i}`);
    for (const name of names)
      await createCertificate(admin, ns, name, {
        certificate: { inline: selfSigned('ec256').pem },
      });
    for (const name of names)
      await waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready', 90_000);
    expect(arm.faults[0]!.times).toBe(0);
    expect(arm.calls.filter((call) => call.status === 429).length).toBe(12);
    expect(arm.peakInFlight).toBeLessThanOrEqual(4);
    expect(op!.output()).toMatch(
      /"msg":"ARM request failed".*"status":429.*"requestId":"[0-9a-f-]{36}"/,
    );
  });
});

describe('the azure store: the account and its real sku', () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let ns: string;
  let op: OperatorProcess | undefined;

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    ns = await createNamespace(admin, 'azsku');
    op = startOperatorProcess(ns, arm);
  });
  afterAll(async () => {
    await op?.stop();
    await arm?.stop();
  });

  it('counts the quota of the Azure account sku (Basic: 2), not spec.sku', async () => {
    arm.addAccount(SUB, RG, 'basic-ia', 'Basic');
    await createAccount(admin, ns, 'contoso', {
      sku: 'Standard',
      store: azureStore('basic-ia'),
    });
    for (const name of ['one', 'two', 'three']) {
      await createCertificate(admin, ns, name, {
        certificate: { inline: selfSigned('ec256').pem },
      });
      await new Promise((r) => setTimeout(r, 1100)); // distinct creation times: a stable order
    }
    const third = await waitForCondition(
      admin,
      ns,
      'three',
      'Ready',
      'False',
      'QuotaExceeded',
      60_000,
    );
    expect(condition(third, 'Ready')?.message).toMatch(/sku Basic in Azure\) holds at most 2/);
    await waitForCondition(admin, ns, 'one', 'Ready', 'True');
    await waitForCondition(admin, ns, 'two', 'Ready', 'True');
    expect(arm.writes().filter((w) => w.method === 'PUT')).toHaveLength(2);
  });

  it('reports a missing Azure account and a denied write, each with its own reason', async () => {
    await createAccount(admin, ns, 'missing', {
      store: azureStore('nope'),
    });
    await createCertificate(admin, ns, 'lost', {
      integrationAccount: { name: 'missing' },
      certificate: { inline: selfSigned('ec256').pem },
    });
    const lost = await waitForCondition(
      admin,
      ns,
      'lost',
      'Ready',
      'False',
      'AzureAccountNotFound',
      60_000,
    );
    expect(condition(lost, 'Ready')?.message).toMatch(
      /does not exist in resource group b2b-rg .*create it/,
    );

    arm.addAccount(SUB, RG, 'readonly-ia', 'Standard');
    arm.denied.add('Microsoft.Logic/integrationAccounts/certificates/write');
    await createAccount(admin, ns, 'readonly', {
      store: azureStore('readonly-ia'),
    });
    await createCertificate(admin, ns, 'denied', {
      integrationAccount: { name: 'readonly' },
      certificate: { inline: selfSigned('ec256').pem },
    });
    const denied = await waitForCondition(
      admin,
      ns,
      'denied',
      'Ready',
      'False',
      'AzureAuthorizationFailed',
      60_000,
    );
    expect(condition(denied, 'Ready')?.message).toContain(
      'perform Microsoft.Logic/integrationAccounts/certificates/write',
    );
    expect(arm.invalidBodies).toEqual([]);
  });
});
