// The certificate series of the metrics registry: what /metrics shows for a certificate.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/operator/metrics.ts';

const ids = { namespace: 'b2b', name: 'fabrikam', account: 'contoso', type: 'Private' };

function expirationSeries(metrics: Metrics) {
  return metrics.certificateExpiration.get().values;
}

describe('b2b_certificate_expiration_timestamp_seconds', () => {
  it('drops the notAfter of a certificate whose source no longer parses (no notAfter)', () => {
    const metrics = new Metrics();
    const notAfter = new Date('2027-01-01T00:00:00Z');
    metrics.setCertificate(ids, 'True', notAfter);
    expect(expirationSeries(metrics)).toEqual([
      {
        labels: {
          namespace: 'b2b',
          name: 'fabrikam',
          integration_account: 'contoso',
          type: 'Private',
        },
        value: notAfter.getTime() / 1000,
      },
    ]);
    metrics.setCertificate(ids, 'False', undefined); // InvalidCertificate: nothing to report
    expect(expirationSeries(metrics)).toEqual([]);
    const ready = metrics.certificateReady.get().values;
    expect(ready.find((v) => v.labels.condition === 'False')?.value).toBe(1);
  });

  it('comes back with the certificate once it parses again', () => {
    const metrics = new Metrics();
    metrics.setCertificate(ids, 'False', undefined);
    expect(expirationSeries(metrics)).toEqual([]);
    const notAfter = new Date('2028-01-01T00:00:00Z');
    metrics.setCertificate(ids, 'True', notAfter);
    expect(expirationSeries(metrics).map((v) => v.value)).toEqual([notAfter.getTime() / 1000]);
  });
});

describe('b2b_certificate_expiry_warning_seconds', () => {
  it('exports each certificate’s expiryWarning, and removes it with the certificate', () => {
    const metrics = new Metrics();
    metrics.setCertificate(ids, 'True', new Date('2027-01-01T00:00:00Z'), 48 * 3_600_000);
    const text = metrics.registry.metrics();
    expect(text).toContain(
      'b2b_certificate_expiry_warning_seconds{namespace="b2b",name="fabrikam"} 172800',
    );
    metrics.removeCertificate('b2b', 'fabrikam');
    expect(metrics.registry.metrics()).not.toContain('b2b_certificate_expiry_warning_seconds{');
  });
});

describe('b2b_certificate_in_use', () => {
  it('is 1 while agreements use the certificate, 0 when none, absent when unknown or deleted', () => {
    const metrics = new Metrics();
    const series = () => metrics.certificateInUse.get().values.map((v) => v.value);
    metrics.setCertificateInUse('b2b', 'fabrikam', 3);
    expect(metrics.registry.metrics()).toContain(
      'b2b_certificate_in_use{namespace="b2b",name="fabrikam"} 1',
    );
    metrics.setCertificateInUse('b2b', 'fabrikam', 0);
    expect(series()).toEqual([0]);
    metrics.setCertificateInUse('b2b', 'fabrikam', undefined);
    expect(series()).toEqual([]);
    metrics.setCertificateInUse('b2b', 'fabrikam', 1);
    metrics.removeCertificate('b2b', 'fabrikam'); // never set through setCertificate
    expect(series()).toEqual([]);
  });
});

describe('work queue gauges', () => {
  it('reads depth (ready to run) and delayed keys of each queue at scrape time', () => {
    const metrics = new Metrics();
    let ready = 3;
    metrics.trackQueue('Certificate', () => ({ depth: ready, delayed: 7 }));
    ready = 1;
    const text = metrics.registry.metrics();
    expect(text).toContain('b2b_workqueue_depth{kind="Certificate"} 1');
    expect(text).toContain('b2b_workqueue_delayed{kind="Certificate"} 7');
  });
});

describe('b2b_certificate_rollover_timestamp_seconds', () => {
  it('exports the switch time of a pending Key Vault certificate version, and removes it once switched or deleted', () => {
    const metrics = new Metrics();
    metrics.setRollover('b2b', 'fabrikam', new Date('2026-12-01T10:00:00Z'));
    expect(metrics.registry.metrics()).toContain(
      'b2b_certificate_rollover_timestamp_seconds{namespace="b2b",name="fabrikam"} 1796119200',
    );
    metrics.setRollover('b2b', 'fabrikam', undefined);
    expect(metrics.registry.metrics()).not.toContain('b2b_certificate_rollover_timestamp_seconds{');
    metrics.setCertificate(ids, 'True', new Date('2027-01-01T00:00:00Z'));
    metrics.setRollover('b2b', 'fabrikam', new Date('2026-12-01T10:00:00Z'));
    metrics.removeCertificate('b2b', 'fabrikam');
    expect(metrics.registry.metrics()).not.toContain('b2b_certificate_rollover_timestamp_seconds{');
  });
});
