// An API server outage as the operator sees it (every connection cut, new ones refused, via a
// TCP proxy in front of the real API server): nothing crashes, and what changed meanwhile is
// reconciled once the server is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/kube/client.ts';
import { createLogger } from '../../src/operator/log.ts';
import { Metrics } from '../../src/operator/metrics.ts';
import { Operator } from '../../src/operator/operator.ts';
import { selfSigned } from '../support/certs.ts';
import { adminClient, createNamespace, testenv } from '../support/cluster.ts';
import { createAccount, createCertificate, waitForCondition } from '../support/resources.ts';
import { clientThroughProxy, type TcpProxy } from '../support/tcp-proxy.ts';

describe('API server outage', () => {
  const admin = adminClient();
  let ns: string;
  let proxy: TcpProxy;
  let stop: () => Promise<void>;
  const logs: string[] = [];
  const requests: RequestRecord[] = [];

  beforeAll(async () => {
    ns = await createNamespace(admin, 'outage');
    await createAccount(admin, ns, 'contoso');
    const through = await clientThroughProxy(testenv().operatorKubeconfig);
    proxy = through.proxy;
    const client = through.client;
    client.onRequest((r) => requests.push(r));
    const operator = new Operator({
      client,
      log: createLogger('debug', {}, (l) => logs.push(l)),
      metrics: new Metrics(),
      settings: {
        watchNamespaces: [ns],
        concurrency: 2,
        recheckIntervalMs: 3_600_000,
        allowedVaultHosts: [],
      },
      informer: { idleTimeoutMs: 5_000 },
    });
    const abort = new AbortController();
    const running = operator.run(abort.signal);
    await operator.certificates.waitForSync();
    stop = async () => {
      abort.abort();
      await running;
    };
  });
  afterAll(async () => {
    await stop?.();
    await proxy?.stop();
  });

  it('recovers and reconciles what changed during the outage', async () => {
    const pem = selfSigned('ec256').pem;
    await createCertificate(admin, ns, 'before', { certificate: { inline: pem } });
    await waitForCondition(admin, ns, 'before', 'Ready', 'True');

    proxy.outage();
    for (const name of ['during-1', 'during-2', 'during-3'])
      await createCertificate(admin, ns, name, { certificate: { inline: pem } });
    await new Promise((r) => setTimeout(r, 3_000));
    proxy.restore();

    for (const name of ['during-1', 'during-2', 'during-3'])
      await waitForCondition(admin, ns, name, 'Ready', 'True', undefined, 60_000);
    expect(logs.some((l) => l.includes('"watch failed; restarting"'))).toBe(true);
    expect(logs.every((l) => !l.includes('"level":"error"'))).toBe(true);
  });
});
