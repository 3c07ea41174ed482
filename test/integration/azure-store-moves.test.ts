// Deleting and moving azure-store entries where they *are* (status.store.ref), not where the
// account says now: the operator process against the real API server and the ARM test server.
// An orphaned Azure certificate costs real quota (Basic allows 2), and no one sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, FINALIZER, IntegrationAccountResource } from '../../src/api/types.ts';
import { SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  waitForCondition,
} from '../support/resources.ts';

const SUB = '5c1e2a77-31f4-4bd4-9d53-0f8e6a4c2b10';
const RG = 'b2b-moves';

const azureStore = (name: string) => ({
  azure: { subscriptionId: SUB, resourceGroup: RG, name, auth: { managedIdentity: {} } },
});

describe('azure store entries are deleted and moved where status.store.ref says they are', () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let ns: string;
  let op: OperatorProcess | undefined;
  const accountIds = new Map<string, string>();

  const azureCert = (account: string, name: string) =>
    arm.certificate(accountIds.get(account) ?? '', name);
  const certPath = (name: string) => resourcePath(CertificateResource, { namespace: ns, name });
  const accountPath = (name: string) =>
    resourcePath(IntegrationAccountResource, { namespace: ns, name });
  const gone = (name: string) =>
    eventually(
      async () => ((await getCertificate(admin, ns, name)) ? undefined : true),
      `Certificate ${name} gone (finalizer done)`,
      60_000,
    );
  const readyIn = async (account: string, name: string) => {
    await createAccount(admin, ns, account, { store: azureStore(`${account}-ia`) });
    await createCertificate(admin, ns, name, {
      integrationAccount: { name: account },
      certificate: { inline: selfSigned('ec256').pem },
    });
    const ready = await waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready', 60_000);
    expect(azureCert(account, name)).toBeDefined();
    return ready;
  };

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    for (const account of ['gone', 'renamed', 'switched', 'denied', 'retarget', 'retarget-2'])
      accountIds.set(account, arm.addAccount(SUB, RG, `${account}-ia`, 'Standard'));
    ns = await createNamespace(admin, 'azmoves');
    op = startOperatorProcess(ns, arm, { recheckInterval: '3s' });
  });

  afterAll(async () => {
    const code = await op?.stop();
    await arm?.stop();
    expect(arm.invalidBodies).toEqual([]);
    expect(code).toBe(0);
  });

  it('removes the Azure certificate of a Delete Certificate whose IntegrationAccount was deleted first', async () => {
    const ready = await readyIn('gone', 'orphan-candidate');
    // How the entry was reached is recorded with where it is: no secret, only the auth method.
    expect(ready.status?.store?.azure?.auth).toEqual({ managedIdentity: {} });
    // `kubectl delete -f` with the account listed first, or a namespace deletion.
    await admin.delete(accountPath('gone'));
    await eventually(
      async () =>
        condition(await getCertificate(admin, ns, 'orphan-candidate'), 'Ready')?.reason ===
          'IntegrationAccountNotFound' || undefined,
      'the certificate sees its account gone',
    );
    await admin.delete(certPath('orphan-candidate'));
    await gone('orphan-candidate');
    expect(azureCert('gone', 'orphan-candidate')).toBeUndefined();
  });

  it('removes the old Azure certificate when spec.azureName changes, after writing the new one', async () => {
    await readyIn('renamed', 'partner');
    const changed = await admin.patch<{ metadata: { generation: number } }>(certPath('partner'), {
      spec: { azureName: 'partner-2027' },
    });
    const moved = await eventually(async () => {
      const c = await getCertificate(admin, ns, 'partner');
      return (c?.status?.observedGeneration ?? 0) >= changed.metadata.generation &&
        c?.status?.store?.ref?.endsWith('/certificates/partner-2027')
        ? c
        : undefined;
    }, 'status.store.ref at the new name');
    expect(condition(moved, 'Ready')?.status).toBe('True');
    expect(azureCert('renamed', 'partner-2027')).toBeDefined();
    expect(azureCert('renamed', 'partner')).toBeUndefined();
  });

  it('removes the old Azure certificate when the account switches to the kubernetes store', async () => {
    await readyIn('switched', 'leaving');
    await admin.patch(accountPath('switched'), {
      spec: { store: { azure: null, kubernetes: {} } },
    });
    await eventually(async () => {
      const c = await getCertificate(admin, ns, 'leaving');
      return c?.status?.store?.ref === 'leaving-b2bcert' || undefined;
    }, 'status.store.ref at the Secret');
    const secret = await admin.get(
      resourcePath(SecretType, { namespace: ns, name: 'leaving-b2bcert' }),
    );
    expect(secret).toBeDefined();
    expect(azureCert('switched', 'leaving')).toBeUndefined();
  });

  it('removes the old Azure certificate when the account names another integration account', async () => {
    await readyIn('retarget', 'relocated');
    await admin.patch(accountPath('retarget'), {
      spec: { store: { azure: { name: 'retarget-2-ia' } } },
    });
    await eventually(async () => {
      const c = await getCertificate(admin, ns, 'relocated');
      return c?.status?.store?.ref?.includes('/integrationAccounts/retarget-2-ia/') || undefined;
    }, 'status.store.ref in the new integration account');
    expect(azureCert('retarget-2', 'relocated')).toBeDefined();
    expect(azureCert('retarget', 'relocated')).toBeUndefined();
  });

  it('keeps the finalizer and says why while the Azure certificate cannot be removed, then removes it', async () => {
    await readyIn('denied', 'stuck');
    const fault = {
      match: (method: string, path: string) =>
        method === 'DELETE' && path.includes('/certificates/stuck'),
      status: 403,
      times: 1_000,
    };
    arm.faults.push(fault);
    await admin.delete(certPath('stuck'));
    const waiting = await eventually(async () => {
      const c = await getCertificate(admin, ns, 'stuck');
      return condition(c, 'Reconciling')?.reason === 'StoreEntryNotRemoved' ? c : undefined;
    }, 'Reconciling StoreEntryNotRemoved');
    expect(waiting.metadata.finalizers).toContain(FINALIZER);
    expect(condition(waiting, 'Reconciling')?.message).toContain('/certificates/stuck');
    await eventually(
      async () =>
        (
          await admin.list<{ items: { reason: string; involvedObject: { name: string } }[] }>(
            `/api/v1/namespaces/${ns}/events`,
          )
        ).items.some(
          (e) => e.reason === 'StoreEntryNotRemoved' && e.involvedObject.name === 'stuck',
        ) || undefined,
      'a StoreEntryNotRemoved event',
    );
    expect(azureCert('denied', 'stuck')).toBeDefined();
    fault.times = 0;
    await gone('stuck');
    expect(azureCert('denied', 'stuck')).toBeUndefined();
  });
});
