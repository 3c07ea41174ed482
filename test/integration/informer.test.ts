// The informer against the real API server, through a fault-injecting TCP proxy: it recovers
// from cut connections and from a silent half-open one, and the real 410 Gone is surfaced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/kube/client.ts';
import { ConfigMapType, isGone, resourcePath } from '../../src/kube/client.ts';
import { silentLogger } from '../../src/operator/log.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { clientThroughProxy, type TcpProxy } from '../support/tcp-proxy.ts';

interface ConfigMap {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  data?: Record<string, string>;
}

describe('Informer', () => {
  const admin = adminClient();
  let ns: string;
  let proxy: TcpProxy;
  let viaProxy: KubeClient;

  beforeAll(async () => {
    ns = await createNamespace(admin, 'informer');
    ({ proxy, client: viaProxy } = await clientThroughProxy(testenv().adminKubeconfig));
  });
  afterAll(async () => proxy?.stop());

  const createConfigMap = (name: string) =>
    admin.create(resourcePath(ConfigMapType, { namespace: ns }), {
      metadata: { name },
      data: { v: name },
    });

  it('survives cut connections and a silent half-open connection, without missing a change', async () => {
    const informer = new Informer<ConfigMap>({
      name: 'test',
      client: viaProxy,
      path: resourcePath(ConfigMapType, { namespace: ns }),
      log: silentLogger,
      idleTimeoutMs: 1_500,
    });
    const seen: string[] = [];
    informer.on({ added: (cm) => seen.push(cm.metadata.name) });
    const abort = new AbortController();
    const running = informer.run(abort.signal);
    await informer.waitForSync();

    await createConfigMap('before-cut');
    await eventually(
      () => Promise.resolve(seen.includes('before-cut') ? true : undefined),
      'event before the cut',
    );

    proxy.cutAll();
    await createConfigMap('during-cut');
    await eventually(
      () => Promise.resolve(seen.includes('during-cut') ? true : undefined),
      'event made while disconnected',
      20_000,
    );
    expect(informer.stats.restarts).toBeGreaterThanOrEqual(1);

    proxy.freeze();
    await createConfigMap('while-frozen');
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).not.toContain('while-frozen');
    proxy.thaw(); // the old connection stays silent: only the watchdog notices
    await eventually(
      () => Promise.resolve(seen.includes('while-frozen') ? true : undefined),
      'event after the idle watchdog',
      20_000,
    );
    expect(informer.stats.idleTimeouts).toBeGreaterThanOrEqual(1);

    abort.abort();
    await running;
    expect(informer.get(`${ns}/while-frozen`)?.data).toEqual({ v: 'while-frozen' });
  });

  it('gets a real 410 Gone for a resource version the server has compacted away', async () => {
    // The test control plane compacts etcd every 10 s and serves ConfigMaps without a watch
    // cache (hack/testenv.sh), as a long-lived cluster does for old resource versions.
    const gone = await eventually(
      async () => {
        const err = await admin
          .watch(
            resourcePath(ConfigMapType, { namespace: ns }),
            { resourceVersion: '1' },
            () => undefined,
            {
              idleTimeoutMs: 1_000,
            },
          )
          .catch((e: unknown) => e);
        return isGone(err) ? err : undefined;
      },
      '410 Gone',
      40_000,
      500,
    );
    expect((gone as Error).message).toMatch(/410/);
  });
});
