// The Prometheus text exposition the operator serves on /metrics (format 0.0.4).
import { describe, expect, it } from 'vitest';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  registerProcessMetrics,
} from '../../../src/operator/prometheus.ts';
import { Metrics } from '../../../src/operator/metrics.ts';
import { listen, metricsServer } from '../../../src/operator/server.ts';

describe('Registry.metrics()', () => {
  it('writes HELP, TYPE and one line per label set, in labelNames order', () => {
    const registry = new Registry();
    const requests = new Counter(
      { name: 'x_requests_total', help: 'Requests.', labelNames: ['method', 'code'] },
      registry,
    );
    requests.inc({ code: '200', method: 'GET' });
    requests.inc({ method: 'GET', code: '200' }, 2);
    requests.inc({ method: 'PUT', code: '409' });
    expect(registry.metrics()).toBe(
      '# HELP x_requests_total Requests.\n' +
        '# TYPE x_requests_total counter\n' +
        'x_requests_total{method="GET",code="200"} 3\n' +
        'x_requests_total{method="PUT",code="409"} 1\n',
    );
  });

  it('escapes label values and help text', () => {
    const registry = new Registry();
    new Gauge({ name: 'x_info', help: 'a \\ b\nc', labelNames: ['name'] }, registry).set(
      { name: 'say "hi"\\\n' },
      1,
    );
    expect(registry.metrics()).toBe(
      '# HELP x_info a \\\\ b\\nc\n# TYPE x_info gauge\nx_info{name="say \\"hi\\"\\\\\\n"} 1\n',
    );
  });

  it('replaces a gauge value, removes a series, and writes special numbers as Prometheus does', () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'x_value', help: 'v', labelNames: ['k'] }, registry);
    gauge.set({ k: 'a' }, 1);
    gauge.set({ k: 'a' }, 2.5);
    gauge.set({ k: 'b' }, Infinity);
    gauge.set({ k: 'c' }, NaN);
    gauge.set({ k: 'd' }, -Infinity);
    gauge.remove({ k: 'c' });
    expect(gauge.get().values).toEqual([
      { labels: { k: 'a' }, value: 2.5 },
      { labels: { k: 'b' }, value: Infinity },
      { labels: { k: 'd' }, value: -Infinity },
    ]);
    expect(registry.metrics()).toContain('x_value{k="b"} +Inf\nx_value{k="d"} -Inf\n');
    gauge.set({ k: 'c' }, NaN);
    expect(registry.metrics()).toContain('x_value{k="c"} NaN\n');
  });

  it('keeps only the declared labels, and a copy of them', () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'x_g', help: 'g', labelNames: ['k'] }, registry);
    const labels = { k: 'a', extra: 'no' };
    gauge.set(labels, 1);
    labels.k = 'changed';
    expect(gauge.get().values).toEqual([{ labels: { k: 'a' }, value: 1 }]);
  });

  it('writes cumulative histogram buckets, +Inf, sum and count', () => {
    const registry = new Registry();
    const histogram = new Histogram(
      { name: 'x_seconds', help: 'd', labelNames: ['kind'], buckets: [1, 0.1] },
      registry,
    );
    for (const v of [0.05, 0.1, 0.5, 7]) histogram.observe({ kind: 'A' }, v);
    expect(registry.metrics()).toBe(
      '# HELP x_seconds d\n# TYPE x_seconds histogram\n' +
        'x_seconds_bucket{kind="A",le="0.1"} 2\n' +
        'x_seconds_bucket{kind="A",le="1"} 3\n' +
        'x_seconds_bucket{kind="A",le="+Inf"} 4\n' +
        'x_seconds_sum{kind="A"} 7.65\n' +
        'x_seconds_count{kind="A"} 4\n',
    );
  });

  it('reads collected values at scrape time', () => {
    const registry = new Registry();
    let depth = 3;
    new Gauge(
      {
        name: 'x_depth',
        help: 'd',
        labelNames: ['kind'],
        collect: (g) => g.set({ kind: 'A' }, depth),
      },
      registry,
    );
    depth = 5;
    expect(registry.metrics()).toContain('x_depth{kind="A"} 5\n');
  });

  it('exports the process series under the names Prometheus clients use', () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const text = registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('process_cpu_seconds_total')).toBeCloseTo(
      value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total'),
      5,
    );
    expect(Math.abs(value('process_start_time_seconds') - Date.now() / 1000)).toBeLessThan(
      process.uptime() + 5,
    );
    expect(value('process_open_fds')).toBeGreaterThan(2);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    const major = process.versions.node.split('.')[0]!;
    expect(text).toContain(`nodejs_version_info{version="${process.version}",major="${major}"`);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter\n');
  });
});

describe('Registry.register', () => {
  it('refuses a second metric of the same name', () => {
    const registry = new Registry();
    new Gauge({ name: 'x_one', help: 'a' }, registry);
    expect(() => new Counter({ name: 'x_one', help: 'b' }, registry)).toThrow(
      'metric x_one is registered twice',
    );
  });
});

describe('a metric without labels', () => {
  it('is 0 from the start, so that rate() sees the first increase', () => {
    const registry = new Registry();
    const dropped = new Counter({ name: 'x_dropped_total', help: 'd' }, registry);
    expect(registry.metrics()).toContain('\nx_dropped_total 0\n');
    dropped.inc();
    expect(registry.metrics()).toContain('\nx_dropped_total 1\n');
  });
});

describe('Registry.chunks()', () => {
  it('writes each series once and as it was, even when reconciles change them between pieces', () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'x_ready', help: 'r', labelNames: ['name'] }, registry);
    for (let i = 0; i < 2_000; i++) gauge.set({ name: `c-${i}` }, 1);
    const pieces = registry.chunks(1024);
    const first = pieces.next().value as string;
    gauge.remove({ name: 'c-1999' }); // deleted and created again: last in the map now
    gauge.set({ name: 'c-1999' }, 1);
    gauge.set({ name: 'c-1998' }, 0);
    const text = first + [...pieces].join('');
    expect(text.match(/^x_ready\{name="c-1999"\}/gm)).toHaveLength(1);
    expect(text).toContain('x_ready{name="c-1998"} 1\n');
  });

  it('runs the collectors before the first piece: one that throws fails the call', () => {
    const registry = new Registry();
    new Gauge(
      {
        name: 'x_broken',
        help: 'b',
        collect: () => {
          throw new Error('unreadable');
        },
      },
      registry,
    );
    expect(() => registry.chunks()).toThrow('unreadable');
  });

  it('cuts the text into pieces of about the size asked for, that join to the whole', () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'x_ready', help: 'r', labelNames: ['name'] }, registry);
    for (let i = 0; i < 5_000; i++) gauge.set({ name: `certificate-${i}` }, i);
    const chunks = [...registry.chunks(4096)];
    expect(chunks.length).toBeGreaterThan(20);
    const longestLine = Math.max(
      ...registry
        .metrics()
        .split('\n')
        .map((l) => l.length + 1),
    );
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(4096 + longestLine);
    expect(chunks.join('')).toBe(registry.metrics());
    expect(registry.metrics().split('\n')).toHaveLength(5_000 + 3); // HELP, TYPE, the last newline
  });
});

describe('metricsServer', () => {
  it('answers 500 when a value cannot be read, and serves again once it can', async () => {
    const metrics = new Metrics();
    let broken = true;
    metrics.trackQueue('Certificate', () => {
      if (broken) throw new Error('unreadable');
      return { depth: 0, delayed: 0 };
    });
    const server = metricsServer(metrics);
    const port = await listen(server, '127.0.0.1:0');
    try {
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(500);
      broken = false;
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('b2b_workqueue_depth{kind="Certificate"} 0\n');
    } finally {
      server.close();
    }
  });

  it('streams the whole text of many series to a client, and 404s other paths', async () => {
    const metrics = new Metrics();
    for (let i = 0; i < 10_000; i++)
      metrics.setCertificate(
        { namespace: 'b2b', name: `c-${i}`, account: 'contoso', type: 'Public' },
        'True',
        new Date('2027-01-01T00:00:00Z'),
      );
    const server = metricsServer(metrics);
    const port = await listen(server, '127.0.0.1:0');
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.headers.get('content-type')).toBe(metrics.registry.contentType);
      const body = await response.text();
      expect(body).toBe(metrics.registry.metrics());
      expect(body.match(/^b2b_certificate_ready_status\{/gm)).toHaveLength(30_000);
      expect(response.status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
