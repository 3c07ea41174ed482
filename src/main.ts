// The operator process: flags, JSON logs, metrics and probes, optional leader election, and a
// graceful shutdown on SIGTERM/SIGINT (in-flight reconciles finish, nothing is left half-done).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseGoDuration } from './certificates/duration.ts';
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
  const elector = config.leaderElect
    ? new LeaderElector({
        client,
        namespace: config.leaderElectionNamespace,
        name: config.leaderElectionId,
        hostname: hostname(),
        log,
      })
    : undefined;
  // Tests only (not a flag): a ServiceAccount token lives 10 minutes at least, so the tests of
  // its renewal shorten how long one is reused.
  const maxReuse = parseGoDuration(process.env.B2B_TEST_SERVICE_ACCOUNT_TOKEN_MAX_REUSE ?? '');
  const operator = new Operator({
    client,
    settings: { ...config, serviceAccountTokenMaxReuseMs: maxReuse },
    log,
    metrics,
    ...(elector ? { isLeader: () => elector.isLeading() } : {}),
  });

  // SIGTERM stops new work and drains what is in flight; past the deadline (or when
  // leadership is lost) in-flight work is cancelled: its requests abort, and a reconcile is
  // level-triggered, so the next run (here or on the next leader) finishes what it began.
  const stop = new AbortController();
  const cancel = new AbortController();
  let lost = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stop.signal.aborted) return;
      log.info('shutting down: finishing in-flight work', {
        signal: sig,
        inFlight: operator.inFlight,
        deadlineMs: config.gracefulShutdownTimeoutMs,
      });
      stop.abort();
      setTimeout(() => {
        log.warn('shutdown deadline passed; cancelling in-flight work');
        cancel.abort(new Error('shutdown deadline passed'));
      }, config.gracefulShutdownTimeoutMs).unref();
    });
  }
  // Cancelled work that still does not end (a call without a timeout) does not hold the exit.
  cancel.signal.addEventListener('abort', () => {
    setTimeout(() => {
      log.error('in-flight work did not stop after cancelling; exiting');
      process.exit(stop.signal.aborted && !lost ? 0 : 1);
    }, 5_000).unref();
  });
  // Ready: able to serve as leader or standby (caches synced, or waiting for the lease).
  const ready = () =>
    !stop.signal.aborted && (operator.isRunning || elector?.state === 'candidate');
  const servers = [metricsServer(metrics), probeServer(ready)];
  const metricsPort = await listen(servers[0]!, config.metricsBindAddress);
  const probePort = await listen(servers[1]!, config.healthProbeBindAddress);
  log.info('operator starting', {
    server: client.server,
    watchNamespaces: config.watchNamespaces.length ? config.watchNamespaces : '(all)',
    ...(config.watchLabelSelector
      ? { watchLabelSelector: config.watchLabelSelector, lease: config.leaderElectionId }
      : {}),
    concurrency: config.concurrency,
    metricsPort,
    probePort,
    allowedVaultHosts: config.allowedVaultHosts,
    azureIdentityPolicy: config.azureIdentityPolicy,
    operatorNamespace: config.operatorNamespace,
  });
  if (elector) {
    const result = await elector.run(stop.signal, (leading) => {
      leading.addEventListener('abort', () => cancel.abort(leading.reason), { once: true });
      return operator.run(stop.signal, cancel.signal);
    });
    lost = result.lost;
  } else {
    await operator.run(stop.signal, cancel.signal);
  }
  for (const s of servers) s.close();
  log.info('operator stopped', {
    ...(lost ? { reason: 'leadership lost' } : {}),
    drained: !cancel.signal.aborted,
  });
  return stop.signal.aborted && !lost ? 0 : 1;
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
