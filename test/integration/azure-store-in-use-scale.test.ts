// Certificates in use at the size of a full Standard account: 1,000 certificates and 200
// agreements (paged, 50 a page). One list of the agreements serves every certificate of the
// account for a recheck interval: the ARM test server counts the list requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateResource, type Certificate } from '../../src/api/types.ts';
import { resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { ArmTestServer } from '../support/arm-server.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/azure-operator.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually } from '../support/cluster.ts';
import { createAccount, createCertificate } from '../support/resources.ts';

const SUB = '0b6f2c1e-5d4a-4c39-9e8b-7a1d3f2e4c50';
const RG = 'b2b-in-use-scale';
const CERTIFICATES = 1000;
const AGREEMENTS = 200;
const PAGE = 50;
const RECHECK_S = 10;

describe(`in use at scale: ${CERTIFICATES} certificates, ${AGREEMENTS} agreements`, () => {
  let admin: KubeClient;
  let arm: ArmTestServer;
  let ns: string;
  let op: OperatorProcess | undefined;
  let account = '';

  const agreementPages = () =>
    arm.calls.filter((c) => c.method === 'GET' && c.path.toLowerCase().endsWith('/agreements'))
      .length;

  beforeAll(async () => {
    admin = adminClient();
    arm = await new ArmTestServer().start();
    arm.agreementsPageSize = PAGE;
    account = arm.addAccount(SUB, RG, 'scale-ia', 'Standard');
    // Agreement i signs with cert-(5i) and encrypts with cert-(5i+1): 400 certificates in use.
    for (let i = 0; i < AGREEMENTS; i++)
      arm.putAgreement(
        account,
        `partner-${i}`,
        arm.as2Agreement({ send: { signing: `cert-${5 * i}`, encryption: `cert-${5 * i + 1}` } }),
      );
    ns = await createNamespace(admin, 'azinusescale');
    await createAccount(admin, ns, 'scale', {
      store: {
        azure: {
          subscriptionId: SUB,
          resourceGroup: RG,
          name: 'scale-ia',
          auth: { managedIdentity: {} },
        },
      },
    });
    op = startOperatorProcess(ns, arm, { recheckInterval: `${RECHECK_S}s` });
  });

  afterAll(async () => {
    const code = await op?.stop();
    await arm?.stop();
    expect(arm.invalidBodies).toEqual([]);
    expect(code).toBe(0);
  });

  it('lists the agreements once per account per recheck interval, whatever the number of certificates', async () => {
    const pem = selfSigned('ec256').pem;
    const start = Date.now();
    const names = Array.from({ length: CERTIFICATES }, (_, i) => `cert-${i}`);
    for (let i = 0; i < names.length; i += 50)
      await Promise.all(
        names.slice(i, i + 50).map((name) =>
          createCertificate(admin, ns, name, {
            integrationAccount: { name: 'scale' },
            certificate: { inline: pem },
          }),
        ),
      );
    const all = await eventually(
      async () => {
        const list = await admin.get<{ items: Certificate[] }>(
          resourcePath(CertificateResource, { namespace: ns }),
        );
        const ready = list.items.filter((c) =>
          c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
        );
        return ready.length === CERTIFICATES ? list.items : undefined;
      },
      `${CERTIFICATES} certificates Ready`,
      600_000,
      1000,
    );
    const readyAt = Date.now();
    const byName = new Map(all.map((c) => [c.metadata.name, c]));
    expect(byName.get('cert-0')?.status?.azure).toEqual({
      usedBy: [{ agreement: 'partner-0', type: 'AS2', direction: 'send', role: 'signing' }],
      usedByCount: 1,
    });
    expect(byName.get('cert-996')?.status?.azure?.usedByCount).toBe(1);
    expect(byName.get('cert-2')?.status?.azure).toEqual({ usedBy: [], usedByCount: 0 });
    expect(byName.get('cert-999')?.status?.azure).toEqual({ usedBy: [], usedByCount: 0 });

    // Two more intervals in steady state: every certificate is rechecked in each.
    await new Promise((r) => setTimeout(r, 2 * RECHECK_S * 1000 + 1000));
    const pages = agreementPages();
    const lists = pages / (AGREEMENTS / PAGE);
    const intervals = (Date.now() - start) / (RECHECK_S * 1000);
    console.log(
      `in use at scale: all ${CERTIFICATES} Ready in ${((readyAt - start) / 1000).toFixed(1)} s; ` +
        `${lists} agreement lists (${pages} pages) in ${intervals.toFixed(1)} recheck intervals`,
    );
    expect(Number.isInteger(lists)).toBe(true); // whole lists, every page followed
    expect(lists).toBeGreaterThanOrEqual(1);
    expect(lists).toBeLessThanOrEqual(Math.ceil(intervals) + 1);
  }, 900_000);
});
