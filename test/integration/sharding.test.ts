// Sharding (docs/API.md, "Sharding"): two operator processes on one control plane, each with its
// own --watch-label-selector and Lease, each behind a proxy that records its requests. Neither
// writes to an object of the other; a Certificate relabelled from shard a to shard b is
// forgotten by a (no deletion: its store entry and finalizer stay) and taken over by b without
// a write; a shard killed leaves the other working.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../src/api/types.ts';
import { LeaseType, SecretType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { HoldingApiProxy } from '../support/api-hold-proxy.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { kubectl, succeeded } from '../support/kubectl.ts';
import { killAll, spawnOperator, type OperatorProcess } from '../support/process.ts';
import { getCertificate, kubectlApply, waitForCondition } from '../support/resources.ts';

const SHARD = 'integration.b2b.dev/shard';
const PER_SHARD = 4;
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface Shard {
  name: string;
  proxy: HoldingApiProxy;
  process: OperatorProcess;
}

describe('sharding: two processes, each its own label selector and Lease', () => {
  let admin: KubeClient;
  let ns: string;
  const shards: Shard[] = [];
  const names = (shard: string) =>
    Array.from({ length: PER_SHARD }, (_, i) => `${shard}-cert-${i}`);
  const certificate = (name: string, shard: string) => ({
    apiVersion: 'integration.b2b.dev/v1alpha1',
    kind: 'Certificate',
    metadata: { name, labels: { [SHARD]: shard } },
    spec: {
      integrationAccount: { name: `account-${shard}` },
      type: 'Public',
      certificate: { inline: selfSigned('ec256').pem },
    },
  });
  /** The writes a shard sent that name `object` (its path, its status, its store Secret). */
  const writesTo = (shard: Shard, object: string, since = 0) =>
    shard.proxy.seen.filter(
      (r) =>
        r.at >= since &&
        WRITES.has(r.method) &&
        new RegExp(`/(${object}|${object}-b2bcert)(/status)?(\\?|$)`).test(r.path),
    );
  const metricsOf = async (shard: Shard) =>
    (await fetch(`http://127.0.0.1:${shard.process.metricsPort}/metrics`)).text();
  const holds = async (shard: Shard, name: string) =>
    (await metricsOf(shard)).includes(
      `b2b_certificate_ready_status{namespace="${ns}",name="${name}"`,
    );
  const syncedEvents = async (name: string) => {
    const out = succeeded(
      await kubectl([
        '-n',
        ns,
        'get',
        'events',
        '--field-selector',
        `involvedObject.name=${name},reason=Synced`,
        '-o',
        'json',
      ]),
    );
    const events = JSON.parse(out) as { items: { count?: number }[] };
    return events.items.reduce((n, e) => n + (e.count ?? 1), 0);
  };

  beforeAll(async () => {
    admin = adminClient();
    ns = await createNamespace(admin, 'shards');
    for (const shard of ['a', 'b'])
      await kubectlApply(ns, {
        apiVersion: 'integration.b2b.dev/v1alpha1',
        kind: 'IntegrationAccount',
        metadata: { name: `account-${shard}`, labels: { [SHARD]: shard } },
        spec: {},
      });
    const dir = mkdtempSync(join(tmpdir(), 'b2b-shards-'));
    for (const name of ['a', 'b']) {
      const proxy = new HoldingApiProxy(readFileSync(testenv().operatorKubeconfig, 'utf8'));
      await proxy.start();
      const process = await spawnOperator({
        namespace: ns,
        kubeconfig: proxy.kubeconfig(mkdtempSync(join(dir, `${name}-`))),
        args: ['--leader-elect', '--leader-election-namespace=b2b-system'],
        env: { B2B_WATCH_LABEL_SELECTOR: `${SHARD}=${name}` },
      });
      shards.push({ name, proxy, process });
    }
  });

  afterAll(async () => {
    killAll(shards.map((s) => s.process));
    for (const s of shards) await s.proxy.stop();
  });

  it("each shard holds a Lease of its own and reconciles only its Certificates and accounts; no write to the other shard's objects", async () => {
    const leases = shards.map((s) => {
      const line = s.process.logs().find((l) => l.msg === 'operator starting');
      return String(line?.lease);
    });
    expect(leases[0]).toMatch(/^b2b-certificate-operator-integration\.b2b\.dev-shard-a-/);
    expect(leases[1]).not.toBe(leases[0]);
    for (const lease of leases)
      await eventually(
        async () =>
          (
            await admin.get<{ spec: { holderIdentity?: string } }>(
              resourcePath(LeaseType, { namespace: 'b2b-system', name: lease }),
            )
          ).spec.holderIdentity,
        `Lease ${lease} held`,
      );

    for (const shard of ['a', 'b'])
      for (const name of names(shard)) await kubectlApply(ns, certificate(name, shard));
    for (const shard of ['a', 'b'])
      for (const name of names(shard))
        await waitForCondition(admin, ns, name, 'Ready', 'True', undefined, 60_000);
    for (const shard of ['a', 'b'])
      await eventually(async () => {
        const a = await admin.get<{ status?: { certificates?: { total?: number } } }>(
          `/apis/integration.b2b.dev/v1alpha1/namespaces/${ns}/integrationaccounts/account-${shard}`,
        );
        return a.status?.certificates?.total === PER_SHARD ? true : undefined;
      }, `account-${shard} counts its ${PER_SHARD} certificates`);

    const [a, b] = shards as [Shard, Shard];
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const name of names(self.name))
        expect(writesTo(self, name).length, `${self.name} wrote ${name}`).toBeGreaterThan(0);
      for (const name of [...names(other.name), `account-${other.name}`])
        expect(writesTo(self, name), `shard ${self.name} wrote to ${name}`).toEqual([]);
    }
  });

  it('a Certificate relabelled to the other shard: the old shard runs no deletion, the new one takes it over without a write', async () => {
    const [a, b] = shards as [Shard, Shard];
    const name = names('a')[0]!;
    const before = await getCertificate(admin, ns, name);
    const secretBefore = await admin.get<{ metadata: { resourceVersion: string } }>(
      resourcePath(SecretType, { namespace: ns, name: `${name}-b2bcert` }),
    );
    const syncedBefore = await syncedEvents(name);
    expect(syncedBefore).toBe(1);
    expect(await holds(a, name)).toBe(true);

    const movedAt = Date.now();
    succeeded(await kubectl(['-n', ns, 'label', 'b2bcert', name, `${SHARD}=b`, '--overwrite']));
    await eventually(
      async () => ((await holds(b, name)) ? true : undefined),
      `shard b holds ${name}`,
    );
    await eventually(
      async () => ((await holds(a, name)) ? undefined : true),
      `shard a lets ${name} go`,
    );
    // A few seconds for anything either shard might still do about it.
    await new Promise((r) => setTimeout(r, 3000));

    const after = await getCertificate(admin, ns, name);
    expect(after?.metadata.finalizers).toContain(FINALIZER);
    expect(after?.metadata.deletionTimestamp).toBeUndefined();
    expect(after?.status).toEqual(before?.status);
    const secretAfter = await admin.get<{ metadata: { resourceVersion: string } }>(
      resourcePath(SecretType, { namespace: ns, name: `${name}-b2bcert` }),
    );
    expect(secretAfter.metadata.resourceVersion).toBe(secretBefore.metadata.resourceVersion);
    expect(writesTo(a, name, movedAt)).toEqual([]);
    expect(writesTo(b, name, movedAt)).toEqual([]);
    expect(await syncedEvents(name)).toBe(1);
  });

  it('a shard killed does not affect the other', async () => {
    const [a, b] = shards as [Shard, Shard];
    a.process.child.kill('SIGKILL');
    await a.process.exited;
    await kubectlApply(ns, certificate('b-after-a-died', 'b'));
    const ready = await waitForCondition(
      admin,
      ns,
      'b-after-a-died',
      'Ready',
      'True',
      undefined,
      60_000,
    );
    expect(ready.status?.store?.ref).toBe('b-after-a-died-b2bcert');
    expect(await holds(b, 'b-after-a-died')).toBe(true);
    // Shard a's certificates wait for their shard, untouched by b.
    await kubectlApply(ns, certificate('a-after-a-died', 'a'));
    await new Promise((r) => setTimeout(r, 3000));
    expect((await getCertificate(admin, ns, 'a-after-a-died'))?.status).toBeUndefined();
    expect(writesTo(b, 'a-after-a-died')).toEqual([]);
  });
});
