// Prometheus metrics of API.md, in one registry the operator serves on --metrics-bind-address.
import { Counter, Gauge, Histogram, Registry, registerProcessMetrics } from './prometheus.ts';

export class Metrics {
  readonly registry = new Registry();
  readonly certificateExpiration = new Gauge(
    {
      name: 'b2b_certificate_expiration_timestamp_seconds',
      help: 'notAfter of the certificate, in seconds since the epoch.',
      labelNames: ['namespace', 'name', 'integration_account', 'type'],
    },
    this.registry,
  );
  readonly certificateReady = new Gauge(
    {
      name: 'b2b_certificate_ready_status',
      help: 'The Ready condition of the certificate: 1 for the condition label that holds.',
      labelNames: ['namespace', 'name', 'integration_account', 'condition'],
    },
    this.registry,
  );
  readonly reconcileTotal = new Counter(
    {
      name: 'b2b_reconcile_total',
      help: 'Reconciles by kind and result (success, requeue, error).',
      labelNames: ['kind', 'result'],
    },
    this.registry,
  );
  readonly reconcileDuration = new Histogram(
    {
      name: 'b2b_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    },
    this.registry,
  );
  readonly keyVaultRequests = new Counter(
    {
      name: 'b2b_keyvault_requests_total',
      help: 'Requests to key vaults by operation and response code.',
      labelNames: ['operation', 'code'],
    },
    this.registry,
  );
  readonly kubeApiRequests = new Counter(
    {
      name: 'b2b_kube_api_requests_total',
      help: 'Requests to the Kubernetes API by method and status code (watches count once).',
      labelNames: ['method', 'code'],
    },
    this.registry,
  );
  readonly eventsDropped = new Counter(
    {
      name: 'b2b_events_dropped_total',
      help: 'Kubernetes Events dropped unsent because too many were waiting.',
    },
    this.registry,
  );
  /** Each controller's queue, read at scrape time: a delay ending changes it with no call. */
  private readonly queues = new Map<string, () => { depth: number; delayed: number }>();
  readonly workqueueDepth = new Gauge(
    {
      name: 'b2b_workqueue_depth',
      help: 'Keys ready to run and waiting for a worker, by kind (delayed rechecks and retries are b2b_workqueue_delayed).',
      labelNames: ['kind'],
      collect: (gauge) => this.readQueues(gauge, 'depth'),
    },
    this.registry,
  );
  readonly workqueueDelayed = new Gauge(
    {
      name: 'b2b_workqueue_delayed',
      help: 'Keys waiting for a delay to pass (requeueAfter rechecks, retry backoff), by kind.',
      labelNames: ['kind'],
      collect: (gauge) => this.readQueues(gauge, 'delayed'),
    },
    this.registry,
  );
  readonly certificateExpiryWarning = new Gauge(
    {
      name: 'b2b_certificate_expiry_warning_seconds',
      help: 'The certificate’s spec.expiryWarning (default 720h), in seconds: the expiry alert fires this long before notAfter.',
      labelNames: ['namespace', 'name'],
    },
    this.registry,
  );

  readonly certificateRollover = new Gauge(
    {
      name: 'b2b_certificate_rollover_timestamp_seconds',
      help: 'When a pending Key Vault certificate version (spec.rollover) replaces the synced one; no series when none is pending.',
      labelNames: ['namespace', 'name'],
    },
    this.registry,
  );
  readonly certificateInUse = new Gauge(
    {
      name: 'b2b_certificate_in_use',
      help: 'Azure store: 1 while any agreement of the integration account uses the certificate (status.azure.usedBy), else 0; no series while that is unknown.',
      labelNames: ['namespace', 'name'],
    },
    this.registry,
  );

  /** The label values last used per certificate, so its series can be removed exactly. */
  private readonly certificateLabels = new Map<string, { account: string; type: string }>();

  constructor(processMetrics = false) {
    if (processMetrics) registerProcessMetrics(this.registry);
  }

  trackQueue(kind: string, read: () => { depth: number; delayed: number }): void {
    this.queues.set(kind, read);
  }

  private readQueues(gauge: Gauge, which: 'depth' | 'delayed'): void {
    for (const [kind, read] of this.queues) gauge.set({ kind }, read()[which]);
  }

  setCertificate(
    ids: { namespace: string; name: string; account: string; type: string },
    ready: 'True' | 'False' | 'Unknown',
    notAfter: Date | undefined,
    expiryWarningMs?: number,
  ): void {
    const id = `${ids.namespace}/${ids.name}`;
    const previous = this.certificateLabels.get(id);
    if (previous && (previous.account !== ids.account || previous.type !== ids.type)) {
      this.removeCertificate(ids.namespace, ids.name);
    }
    this.certificateLabels.set(id, { account: ids.account, type: ids.type });
    const base = { namespace: ids.namespace, name: ids.name, integration_account: ids.account };
    for (const condition of ['True', 'False', 'Unknown']) {
      this.certificateReady.set({ ...base, condition }, condition === ready ? 1 : 0);
    }
    // No notAfter (the source no longer parses): an old one would tell of a certificate that
    // is not there, so the series goes until the certificate parses again.
    if (notAfter)
      this.certificateExpiration.set({ ...base, type: ids.type }, notAfter.getTime() / 1000);
    else this.certificateExpiration.remove({ ...base, type: ids.type });
    if (expiryWarningMs !== undefined)
      this.certificateExpiryWarning.set(
        { namespace: ids.namespace, name: ids.name },
        expiryWarningMs / 1000,
      );
  }

  /** The switch time of the certificate's pending version (status.pending), or none. */
  setRollover(namespace: string, name: string, switchTime: Date | undefined): void {
    if (switchTime) this.certificateRollover.set({ namespace, name }, switchTime.getTime() / 1000);
    else this.certificateRollover.remove({ namespace, name });
  }

  /** status.azure.usedByCount; undefined (a kubernetes store, not read yet): no series. */
  setCertificateInUse(namespace: string, name: string, uses: number | undefined): void {
    if (uses === undefined) this.certificateInUse.remove({ namespace, name });
    else this.certificateInUse.set({ namespace, name }, uses > 0 ? 1 : 0);
  }

  /** Series of a deleted certificate are removed, whatever their other labels. */
  removeCertificate(namespace: string, name: string): void {
    this.certificateInUse.remove({ namespace, name });
    const labels = this.certificateLabels.get(`${namespace}/${name}`);
    if (!labels) return;
    this.certificateLabels.delete(`${namespace}/${name}`);
    const base = { namespace, name, integration_account: labels.account };
    for (const condition of ['True', 'False', 'Unknown'])
      this.certificateReady.remove({ ...base, condition });
    this.certificateExpiration.remove({ ...base, type: labels.type });
    this.certificateExpiryWarning.remove({ namespace, name });
    this.certificateRollover.remove({ namespace, name });
  }
}
