// Runs the operator in-process, as the non-admin operator user, watching one namespace, with
// the same wiring main.ts uses. Counts the requests it makes.
import { KubeClient, type RequestRecord } from '../../src/kube/client.ts';
import { createLogger, type Logger } from '../../src/operator/log.ts';
import { Metrics } from '../../src/operator/metrics.ts';
import { Operator, type OperatorDeps } from '../../src/operator/operator.ts';
import { testenv } from './cluster.ts';

export interface RunningOperator {
  operator: Operator;
  metrics: Metrics;
  requests: RequestRecord[];
  logs: string[];
  stop(): Promise<void>;
}

export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function startOperator(
  namespace: string,
  overrides: Partial<Omit<OperatorDeps, 'client' | 'log' | 'metrics' | 'settings'>> & {
    settings?: Partial<OperatorDeps['settings']>;
    /** Another kubeconfig than the operator user's. */
    kubeconfig?: string;
  } = {},
): Promise<RunningOperator> {
  const { kubeconfig, ...deps } = overrides;
  const client = KubeClient.load(kubeconfig ?? testenv().operatorKubeconfig);
  const requests: RequestRecord[] = [];
  client.onRequest((r) => requests.push(r));
  const logs: string[] = [];
  const log: Logger = createLogger('debug', { namespace }, (line) => logs.push(line));
  const metrics = new Metrics();
  const operator = new Operator({
    ...deps,
    client,
    log,
    metrics,
    settings: {
      watchNamespaces: [namespace],
      concurrency: 4,
      recheckIntervalMs: 3_600_000,
      allowedVaultHosts: [],
      ...deps.settings,
    },
  });
  const abort = new AbortController();
  const running = operator.run(abort.signal);
  await Promise.all([operator.certificates.waitForSync(), operator.accounts.waitForSync()]);
  return {
    operator,
    metrics,
    requests,
    logs,
    async stop() {
      abort.abort();
      await running;
    },
  };
}
