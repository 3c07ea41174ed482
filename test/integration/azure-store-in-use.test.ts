// Certificates in use (docs/API.md, "Certificates in use"): the operator process against the
// real API server and the ARM test server, whose agreements are validated with the SDK's
// mappers. AS2 agreements name the certificates they sign and encrypt with; X12 and EDIFACT
// agreements name none. A Delete Certificate in use keeps its Azure certificate until no
// agreement uses it; agreements that cannot be read make the delete wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateResource,
  FINALIZER,
  IntegrationAccountResource,
  type Certificate,
} from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { waitForEvent } from '../support/events.ts';
import { kubectl, succeeded } from '../support/kubectl.ts';
import {
  condition,
  createAccount,
  createCertificate,
  getCertificate,
  kubectlApply,
  waitForCondition,
} from '../support/resources.ts';

const SUB = '7d2f4a10-96c3-4b8e-a1f5-3e0c9b6d2a41';
const RG = 'b2b-in-use';
const RECHECK_S = 3;
const AGREEMENTS_READ = 'Microsoft.Logic/integrationAccounts/agreements/read';

const azureStore = (name: string) => ({
  azure: { subscriptionId: SUB, resourceGroup: RG, name, auth: { managedIdentity: {} } },
});

describe('azure store: which agreements use each certificate, and in-use protection on delete', () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let ns: string;
  let op: OperatorProcess | undefined;
  let partners = '';

  const certPath = (name: string) => resourcePath(CertificateResource, { namespace: ns, name });
  const azureCert = (name: string, accountId = partners) => arm.certificate(accountId, name);
  const gone = (name: string, timeoutMs = 30_000) =>
    eventually(
      async () => ((await getCertificate(admin, ns, name)) ? undefined : true),
      `Certificate ${name} gone (finalizer done)`,
      timeoutMs,
    );
  const readyIn = async (
    account: string,
    name: string,
    extra: Partial<Certificate['spec']> = {},
  ) => {
    await createCertificate(admin, ns, name, {
      integrationAccount: { name: account },
      certificate: { inline: selfSigned('ec256').pem },
      ...extra,
    });
    return waitForCondition(admin, ns, name, 'Ready', 'True', 'Ready', 60_000);
  };
  const waitingWith = (name: string, reason: string) =>
    eventually(async () => {
      const c = await getCertificate(admin, ns, name);
      return condition(c, 'Ready')?.reason === reason ? c : undefined;
    }, `Certificate ${name} Ready=False ${reason}`);

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    partners = arm.addAccount(SUB, RG, 'partners-ia', 'Standard');
    // Planted before the operator starts: its first syncs see them.
    arm.putAgreement(
      partners,
      'fabrikam-as2',
      arm.as2Agreement({
        send: { signing: 'contoso-signing', encryption: 'fabrikam-enc' },
        receive: { signing: 'fabrikam-enc' },
      }),
    );
    arm.putAgreement(
      partners,
      'northwind-as2',
      arm.as2Agreement({ receive: { encryption: 'Contoso-Signing' } }),
    );
    arm.putAgreement(partners, 'pinned-as2', arm.as2Agreement({ send: { signing: 'pinned' } }));
    arm.putAgreement(partners, 'kept-as2', arm.as2Agreement({ send: { signing: 'kept' } }));
    arm.putAgreement(partners, 'fabrikam-x12', arm.ediAgreement('X12'));
    arm.putAgreement(partners, 'fabrikam-edifact', arm.ediAgreement('Edifact'));
    ns = await createNamespace(admin, 'azinuse');
    await createAccount(admin, ns, 'partners', { store: azureStore('partners-ia') });
    op = startOperatorProcess(ns, arm, { recheckInterval: `${RECHECK_S}s` });
  });

  afterAll(async () => {
    const code = await op?.stop();
    await arm?.stop();
    expect(arm.invalidBodies).toEqual([]);
    expect(code).toBe(0);
  });

  it('lists in status.azure.usedBy the AS2 agreements naming the certificate, never X12 or EDIFACT ones, and kubectl -o wide shows In use', async () => {
    for (const name of ['contoso-signing', 'fabrikam-enc', 'unused'])
      await kubectlApply(ns, {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'Certificate',
        metadata: { name },
        spec: {
          integrationAccount: { name: 'partners' },
          type: 'Public',
          certificate: { inline: selfSigned('ec256').pem },
        },
      });
    const signing = await waitForCondition(admin, ns, 'contoso-signing', 'Ready', 'True');
    expect(signing.status?.azure).toEqual({
      usedBy: [
        { agreement: 'fabrikam-as2', type: 'AS2', direction: 'send', role: 'signing' },
        { agreement: 'northwind-as2', type: 'AS2', direction: 'receive', role: 'encryption' },
      ],
      usedByCount: 2,
    });
    const enc = await waitForCondition(admin, ns, 'fabrikam-enc', 'Ready', 'True');
    expect(enc.status?.azure).toEqual({
      usedBy: [
        { agreement: 'fabrikam-as2', type: 'AS2', direction: 'send', role: 'encryption' },
        { agreement: 'fabrikam-as2', type: 'AS2', direction: 'receive', role: 'signing' },
      ],
      usedByCount: 2,
    });
    const unused = await waitForCondition(admin, ns, 'unused', 'Ready', 'True');
    expect(unused.status?.azure).toEqual({ usedBy: [], usedByCount: 0 });

    const wide = succeeded(await kubectl(['get', 'b2bcert', '-n', ns, '-o', 'wide']));
    const header = wide.split('\n')[0]!;
    expect(header).toContain('IN USE');
    const column = header.indexOf('IN USE');
    const inUse = (name: string) =>
      wide
        .split('\n')
        .find((l) => l.startsWith(`${name} `))
        ?.slice(column)
        .split(/\s+/)[0];
    expect(inUse('contoso-signing')).toBe('2');
    expect(inUse('unused')).toBe('0');
    const narrow = succeeded(await kubectl(['get', 'b2bcert', '-n', ns]));
    expect(narrow.split('\n')[0]).not.toContain('IN USE'); // priority 1: -o wide only

    const port = /"metricsPort":(\d+)/.exec(op!.output())?.[1];
    expect(port).toBeDefined();
    await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const inUse = (name: string) =>
        new RegExp(
          `^b2b_certificate_in_use\\{namespace="${ns}",name="${name}"\\} (\\d)$`,
          'm',
        ).exec(text)?.[1];
      return inUse('contoso-signing') === '1' &&
        inUse('fabrikam-enc') === '1' &&
        inUse('unused') === '0'
        ? true
        : undefined;
    }, 'b2b_certificate_in_use 1 for the certificates in use, 0 for the other');
  });

  it('keeps the Azure certificate of a deleted Certificate an agreement uses, says so, and removes it once the agreement names another', async () => {
    await waitForCondition(admin, ns, 'contoso-signing', 'Ready', 'True');
    await admin.delete(certPath('contoso-signing'));
    const waiting = await waitingWith('contoso-signing', 'CertificateInUse');
    expect(condition(waiting, 'Ready')?.status).toBe('False');
    expect(condition(waiting, 'Ready')?.message).toMatch(/fabrikam-as2 \(AS2, send signing\)/);
    expect(condition(waiting, 'Ready')?.message).toContain('northwind-as2');
    expect(condition(waiting, 'Ready')?.message).toContain('integration.b2b.dev/ignore-usage=true');
    expect(waiting.metadata.finalizers).toContain(FINALIZER);
    expect(waiting.status?.azure?.usedByCount).toBe(2);
    await waitForEvent(admin, ns, {
      kind: 'Certificate',
      name: 'contoso-signing',
      type: 'Warning',
      reason: 'CertificateInUse',
      message: 'fabrikam-as2',
    });
    // Rechecked: still kept while used.
    await new Promise((r) => setTimeout(r, 2 * RECHECK_S * 1000));
    expect(azureCert('contoso-signing')).toBeDefined();
    expect(await getCertificate(admin, ns, 'contoso-signing')).toBeDefined();

    // One agreement moves to another certificate, the other is deleted: unused now.
    arm.putAgreement(
      partners,
      'fabrikam-as2',
      arm.as2Agreement({
        send: { signing: 'contoso-signing-2027', encryption: 'fabrikam-enc' },
        receive: { signing: 'fabrikam-enc' },
      }),
    );
    const partly = await eventually(async () => {
      const c = await getCertificate(admin, ns, 'contoso-signing');
      return c?.status?.azure?.usedByCount === 1 ? c : undefined;
    }, 'the certificate now used by one agreement only');
    expect(condition(partly, 'Ready')?.message).not.toContain('fabrikam-as2');
    arm.deleteAgreement(partners, 'northwind-as2');
    await gone('contoso-signing', (RECHECK_S + 10) * 1000);
    expect(azureCert('contoso-signing')).toBeUndefined();
  });

  it('removes an Azure certificate in use when the Certificate is annotated integration.b2b.dev/ignore-usage=true', async () => {
    await readyIn('partners', 'pinned');
    await admin.delete(certPath('pinned'));
    await waitingWith('pinned', 'CertificateInUse');
    expect(azureCert('pinned')).toBeDefined();
    succeeded(
      await kubectl([
        'annotate',
        '-n',
        ns,
        'b2bcert',
        'pinned',
        'integration.b2b.dev/ignore-usage=true',
      ]),
    );
    await gone('pinned');
    expect(azureCert('pinned')).toBeUndefined();
  });

  it('keeps the old Azure certificate of a rename while an agreement uses it, Ready on the new one, then removes it', async () => {
    arm.putAgreement(
      partners,
      'renamed-as2',
      arm.as2Agreement({ receive: { encryption: 'moving' } }),
    );
    await readyIn('partners', 'moving');
    // Past the moment a list from before the agreement was planted still counts as fresh.
    await new Promise((r) => setTimeout(r, 2_500));
    const changed = await admin.patch<{ metadata: { generation: number } }>(certPath('moving'), {
      spec: { azureName: 'moving-2027' },
    });
    const both = await eventually(async () => {
      const c = await getCertificate(admin, ns, 'moving');
      return (c?.status?.observedGeneration ?? 0) >= changed.metadata.generation &&
        c?.status?.store?.ref?.endsWith('/certificates/moving-2027') &&
        condition(c, 'PreviousEntryInUse')?.status === 'True'
        ? c
        : undefined;
    }, 'the new entry recorded and the old one kept');
    expect(condition(both, 'Ready')?.status).toBe('True');
    expect(condition(both, 'PreviousEntryInUse')?.reason).toBe('CertificateInUse');
    expect(condition(both, 'PreviousEntryInUse')?.message).toContain('renamed-as2');
    expect(both.status?.store?.kept?.map((k) => k.ref.split('/').pop())).toEqual(['moving']);
    expect(azureCert('moving')).toBeDefined();
    expect(azureCert('moving-2027')).toBeDefined();
    await waitForEvent(admin, ns, {
      name: 'moving',
      type: 'Warning',
      reason: 'CertificateInUse',
      message: 'renamed-as2',
    });
    // Still kept over rechecks while used.
    await new Promise((r) => setTimeout(r, 2 * RECHECK_S * 1000));
    expect(azureCert('moving')).toBeDefined();

    arm.putAgreement(
      partners,
      'renamed-as2',
      arm.as2Agreement({ receive: { encryption: 'moving-2027' } }),
    );
    const done = await eventually(
      async () => {
        const c = await getCertificate(admin, ns, 'moving');
        return !c?.status?.store?.kept && !condition(c, 'PreviousEntryInUse') ? c : undefined;
      },
      'the old entry removed and the condition gone',
      (RECHECK_S + 10) * 1000,
    );
    expect(azureCert('moving')).toBeUndefined();
    expect(azureCert('moving-2027')).toBeDefined();
    expect(condition(done, 'Ready')?.status).toBe('True');
    await eventually(async () => {
      const c = await getCertificate(admin, ns, 'moving');
      return c?.status?.azure?.usedBy?.[0]?.agreement === 'renamed-as2' || undefined;
    }, 'the new entry used by the agreement');
  });

  it('keeps the old Azure certificate when its IntegrationAccount moves to another integration account while an agreement uses it, then removes it', async () => {
    const from = arm.addAccount(SUB, RG, 'mover-ia', 'Standard');
    const to = arm.addAccount(SUB, RG, 'others-ia', 'Standard');
    const accountReady = () =>
      eventually(async () => {
        const a = await admin.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
          resourcePath(IntegrationAccountResource, { namespace: ns, name: 'mover' }),
        );
        return (
          a.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') || undefined
        );
      }, 'IntegrationAccount mover Ready');
    await createAccount(admin, ns, 'mover', { store: azureStore('mover-ia') });
    await accountReady();
    arm.putAgreement(from, 'moved-as2', arm.as2Agreement({ send: { signing: 'travelling' } }));
    await readyIn('mover', 'travelling');
    await new Promise((r) => setTimeout(r, 2_500)); // past a list from before the agreement
    // The account's store now names another integration account: its certificates move.
    await admin.patch(resourcePath(IntegrationAccountResource, { namespace: ns, name: 'mover' }), {
      spec: { store: azureStore('others-ia') },
    });
    const both = await eventually(async () => {
      const c = await getCertificate(admin, ns, 'travelling');
      return c?.status?.store?.ref?.toLowerCase().includes('/others-ia/') &&
        condition(c, 'PreviousEntryInUse')?.status === 'True'
        ? c
        : undefined;
    }, 'the entry in the other integration account recorded and the old one kept');
    expect(condition(both, 'Ready')?.status).toBe('True');
    expect(condition(both, 'PreviousEntryInUse')?.message).toContain('moved-as2');
    expect(azureCert('travelling', from)).toBeDefined();
    expect(azureCert('travelling', to)).toBeDefined();

    arm.deleteAgreement(from, 'moved-as2');
    await eventually(
      async () => {
        const c = await getCertificate(admin, ns, 'travelling');
        return !c?.status?.store?.kept && !condition(c, 'PreviousEntryInUse') ? c : undefined;
      },
      'the old entry removed once no agreement uses it',
      (RECHECK_S + 10) * 1000,
    );
    expect(azureCert('travelling', from)).toBeUndefined();
    expect(azureCert('travelling', to)).toBeDefined();
  });

  it('leaves a Retain Certificate in use alone: deleted at once, its Azure certificate kept', async () => {
    await readyIn('partners', 'kept', { deletionPolicy: 'Retain' });
    await admin.delete(certPath('kept'));
    await gone('kept');
    expect(azureCert('kept')).toBeDefined();
  });

  it('makes a delete wait with CertificateUsageUnknown while the agreements cannot be read (403), never deleting blindly', async () => {
    await readyIn('partners', 'guarded');
    arm.denied.add(AGREEMENTS_READ);
    try {
      // Past the moment a list from before the denial would still count as fresh.
      await new Promise((r) => setTimeout(r, 2_500));
      await admin.delete(certPath('guarded'));
      const waiting = await waitingWith('guarded', 'CertificateUsageUnknown');
      const message = condition(waiting, 'Ready')?.message ?? '';
      expect(message).toContain('guarded');
      expect(message).toContain(AGREEMENTS_READ);
      expect(waiting.metadata.finalizers).toContain(FINALIZER);
      await waitForEvent(admin, ns, {
        name: 'guarded',
        type: 'Warning',
        reason: 'CertificateUsageUnknown',
      });
      await new Promise((r) => setTimeout(r, 2 * RECHECK_S * 1000));
      expect(azureCert('guarded')).toBeDefined();
      expect(
        arm.calls.some((c) => c.method === 'DELETE' && c.path.endsWith('/certificates/guarded')),
      ).toBe(false);
    } finally {
      arm.denied.delete(AGREEMENTS_READ);
    }
    await gone('guarded', (RECHECK_S + 10) * 1000);
    expect(azureCert('guarded')).toBeUndefined();
  });

  it('lists the agreements once per account per recheck interval, shared by all its certificates', async () => {
    const fleet = arm.addAccount(SUB, RG, 'fleet-ia', 'Standard');
    const small = arm.addAccount(SUB, RG, 'small-ia', 'Standard');
    const count = 40;
    arm.agreementsPageSize = 50;
    for (let i = 0; i < 200; i++)
      arm.putAgreement(
        fleet,
        `partner-${String(i).padStart(3, '0')}`,
        arm.as2Agreement({ send: { signing: `fleet-${i % count}` } }),
      );
    await createAccount(admin, ns, 'fleet', { store: azureStore('fleet-ia') });
    await createAccount(admin, ns, 'small', { store: azureStore('small-ia') });
    const names = Array.from({ length: count }, (_, i) => `fleet-${i}`);
    for (const name of names)
      await createCertificate(admin, ns, name, {
        integrationAccount: { name: name.endsWith('0') ? 'small' : 'fleet' },
        certificate: { inline: selfSigned('ec256').pem },
      });
    await eventually(
      async () => {
        const list = await admin.list<{ items: Certificate[] }>(
          resourcePath(CertificateResource, { namespace: ns }),
        );
        const fleetCerts = list.items.filter((c) => c.metadata.name.startsWith('fleet-'));
        return fleetCerts.length === count &&
          fleetCerts.every((c) => condition(c, 'Ready')?.status === 'True' && c.status?.azure)
          ? true
          : undefined;
      },
      'every fleet certificate Ready with status.azure',
      120_000,
      500,
    );
    const fleet1 = await getCertificate(admin, ns, 'fleet-1');
    expect(fleet1?.status?.azure?.usedByCount).toBe(5); // partner-001, -041, -081, -121, -161

    const lists = (accountId: string, from: number) =>
      arm.calls
        .slice(from)
        .filter((c) => c.method === 'GET' && c.path === `${accountId}/agreements`).length;
    const gets = (accountId: string, from: number) =>
      arm.calls
        .slice(from)
        .filter((c) => c.method === 'GET' && c.path.startsWith(`${accountId}/certificates/`))
        .length;
    const windowS = 4 * RECHECK_S;
    const from = arm.calls.length;
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const pages = 200 / arm.agreementsPageSize; // one list of the fleet is 4 pages
    const fleetPages = lists(fleet, from);
    const smallLists = lists(small, from);
    const fleetGets = gets(fleet, from);
    const smallGets = gets(small, from);
    console.log(
      `in ${windowS}s (recheck ${RECHECK_S}s): fleet-ia ${fleetPages / pages} agreements lists (${fleetPages} pages) for ${count - count / 10} certificates (${fleetGets} certificate GETs); small-ia ${smallLists} lists for ${count / 10} certificates (${smallGets} GETs)`,
    );
    expect(fleetPages % pages).toBe(0);
    // One list per interval (plus one started at the window's edge), for every certificate.
    expect(fleetPages / pages).toBeGreaterThanOrEqual(windowS / RECHECK_S - 1);
    expect(fleetPages / pages).toBeLessThanOrEqual(windowS / RECHECK_S + 1);
    expect(smallLists).toBeLessThanOrEqual(windowS / RECHECK_S + 1);
    expect(fleetGets).toBeGreaterThan(2 * (fleetPages / pages) * 5);
  });
});
