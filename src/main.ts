// The operator process: flags, JSON logs, metrics and probes, optional leader election, and a
// graceful shutdown on SIGTERM/SIGINT (in-flight reconciles finish, nothing is left half-done).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeClient } from './kube/client.ts';
import { ConfigError, parseConfig } from './operator/config.ts';
import { helpOrVersion } from './operator/config-help.ts';
import { createLogger, errorMessage } from './operator/log.ts';
import { Metrics } from './operator/metrics.ts';
import { Operator } from './operator/operator.ts';
import { listen, metricsServer, probeServer } from './operator/server.ts';
import { LeaderElector } from './runtime/leader-election.ts';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** In a pod, the namespace it runs in; outside a cluster, undefined. */
function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const asked = helpOrVersion(process.argv.slice(2));
  if (asked) {
    process.stdout.write(asked);
    return 0;
  }
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env, serviceAccountNamespace());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const log = createLogger(config.logLevel, { logger: 'b2b-operator' });
  const client = KubeClient.load(config.kubeconfig);
  const metrics = new Metrics(true);
  client.onRequest((r) =>
    metrics.kubeApiRequests.inc({ method: r.method, code: String(r.status) }),
  );
  const operator = new Operator({ client, settings: config, log, metrics });

  const shutdown = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      log.info('shutting down: finishing in-flight work', { signal: sig });
      shutdown.abort();
    });
  }
  const servers = [metricsServer(metrics), probeServer(() => operator.isRunning)];
  const metricsPort = await listen(servers[0]!, config.metricsBindAddress);
  const probePort = await listen(servers[1]!, config.healthProbeBindAddress);
  log.info('operator starting', {
    server: client.config.getCurrentCluster()?.server,
    watchNamespace: config.watchNamespace || '(all)',
    concurrency: config.concurrency,
    metricsPort,
    probePort,
    allowedVaultHosts: config.allowedVaultHosts,
  });
  const runOperator = (signal: AbortSignal) => operator.run(signal);
  if (config.leaderElect) {
    await new LeaderElector({
      client,
      namespace: config.leaderElectionNamespace,
      name: 'b2b-certificate-operator',
      identity: `${hostname()}_${process.pid}`,
      log,
    }).run(shutdown.signal, runOperator);
  } else {
    await runOperator(shutdown.signal);
  }
  for (const s of servers) s.close();
  log.info('operator stopped');
  return shutdown.signal.aborted ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      JSON.stringify({
        ts: new Date().toISOString(),
        level: 'error',
        msg: 'operator failed',
        error: errorMessage(err),
      }),
    );
    process.exit(1);
  },
);
