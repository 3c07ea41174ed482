// Prometheus metrics of API.md, in one registry the operator serves on --metrics-bind-address.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly certificateExpiration = new Gauge({
    name: 'b2b_certificate_expiration_timestamp_seconds',
    help: 'notAfter of the certificate, in seconds since the epoch.',
    labelNames: ['namespace', 'name', 'integration_account', 'type'],
    registers: [this.registry],
  });
  readonly certificateReady = new Gauge({
    name: 'b2b_certificate_ready_status',
    help: 'The Ready condition of the certificate: 1 for the condition label that holds.',
    labelNames: ['namespace', 'name', 'integration_account', 'condition'],
    registers: [this.registry],
  });
  readonly reconcileTotal = new Counter({
    name: 'b2b_reconcile_total',
    help: 'Reconciles by kind and result (success, requeue, error).',
    labelNames: ['kind', 'result'],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'b2b_reconcile_duration_seconds',
    help: 'Time spent in one reconcile.',
    labelNames: ['kind'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly keyVaultRequests = new Counter({
    name: 'b2b_keyvault_requests_total',
    help: 'Requests to key vaults by operation and response code.',
    labelNames: ['operation', 'code'],
    registers: [this.registry],
  });
  readonly kubeApiRequests = new Counter({
    name: 'b2b_kube_api_requests_total',
    help: 'Requests to the Kubernetes API by method and status code (watches count once).',
    labelNames: ['method', 'code'],
    registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: 'b2b_events_dropped_total',
    help: 'Kubernetes Events dropped unsent because too many were waiting.',
    registers: [this.registry],
  });
  readonly workqueueDepth = new Gauge({
    name: 'b2b_workqueue_depth',
    help: 'Keys waiting in the work queue, by kind.',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  /** The label values last used per certificate, so its series can be removed exactly. */
  private readonly certificateLabels = new Map<string, { account: string; type: string }>();

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  setCertificate(
    ids: { namespace: string; name: string; account: string; type: string },
    ready: 'True' | 'False' | 'Unknown',
    notAfter: Date | undefined,
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
  }

  /** Series of a deleted certificate are removed, whatever their other labels. */
  removeCertificate(namespace: string, name: string): void {
    const labels = this.certificateLabels.get(`${namespace}/${name}`);
    if (!labels) return;
    this.certificateLabels.delete(`${namespace}/${name}`);
    const base = { namespace, name, integration_account: labels.account };
    for (const condition of ['True', 'False', 'Unknown'])
      this.certificateReady.remove({ ...base, condition });
    this.certificateExpiration.remove({ ...base, type: labels.type });
  }
}
