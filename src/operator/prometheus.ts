// Prometheus text exposition (format 0.0.4) for the operator's few metrics: counters, gauges
// and histograms with labels, and the process series. Written here instead of using prom-client,
// whose module graph costs the idle operator ~15 MiB of RSS (docs/benchmarks.md).
import { readFileSync, readdirSync } from 'node:fs';

type Labels = Record<string, string>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  labels: Labels;
  value: number;
}

interface Options {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  private readonly registered: Metric[] = [];

  register(metric: Metric): void {
    // two metrics of one name would be one broken family in the text
    if (this.registered.some((m) => m.name === metric.name))
      throw new Error(`metric ${metric.name} is registered twice`);
    this.registered.push(metric);
  }

  /** Name, type and label names of each registered metric, in registration order. */
  describe(): { name: string; type: MetricType; labelNames: readonly string[] }[] {
    return this.registered.map((m) => ({ name: m.name, type: m.type, labelNames: m.labelNames }));
  }

  /** The /metrics body, whole (tests). */
  metrics(): string {
    return [...this.chunks()].join('');
  }

  /**
   * The /metrics body in pieces of about `size` characters, made as they are read: 10,000
   * certificates are 60,000 lines (7 MiB), which as one string and its Buffer were the
   * operator's peak memory whenever Prometheus scraped it. The collectors run now, before the
   * first piece: one that throws fails the call, not a response already begun.
   */
  chunks(size = 64 * 1024): Generator<string> {
    // every value first, then the text: one collector may set several metrics (CPU time)
    for (const m of this.registered) m.collectNow();
    return this.pieces(size);
  }

  private *pieces(size: number): Generator<string> {
    let pending = '';
    for (const metric of this.registered)
      for (const line of metric.exposition()) {
        pending += line;
        if (pending.length >= size) {
          yield pending;
          pending = '';
        }
      }
    if (pending) yield pending;
  }
}

abstract class Metric {
  abstract readonly type: MetricType;
  readonly name: string;
  readonly labelNames: readonly string[];
  private readonly help: string;

  constructor(options: Options, registry: Registry) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames ?? [];
    registry.register(this);
  }

  /** A copy holding only the declared labels, so callers may reuse their object. */
  protected ownLabels(labels: Labels): Labels {
    return Object.fromEntries(this.labelNames.map((n) => [n, labels[n] ?? '']));
  }

  /** One key per label combination: the values in labelNames order. */
  protected key(labels: Labels): string {
    return this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
  }

  protected labelText(labels: Labels, extra = ''): string {
    const pairs = this.labelNames.map((n) => `${n}="${escapeLabel(labels[n] ?? '')}"`);
    if (extra) pairs.push(extra);
    return pairs.length ? `{${pairs.join(',')}}` : '';
  }

  *exposition(): Generator<string> {
    yield `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
    yield `# TYPE ${this.name} ${this.type}\n`;
    yield* this.lines();
  }

  /** Sets values read at scrape time (queues, the process); none by default. */
  collectNow(): void {}

  protected abstract lines(): Iterable<string>;
}

/** Counters and gauges: one number per label combination. */
abstract class Scalar<Self extends Scalar<Self>> extends Metric {
  private readonly series = new Map<string, Sample>();
  /** Run at scrape time, to set values read from elsewhere (queues, the process). */
  private readonly collect: ((self: Self) => void) | undefined;

  constructor(options: Options & { collect?: (self: Self) => void }, registry: Registry) {
    super(options, registry);
    this.collect = options.collect;
    // A metric without labels exists from the start (0), as client libraries do: rate() and
    // increase() need the sample before the first event.
    if (!this.labelNames.length && !this.collect) this.add({}, 0, true);
  }

  protected add(labels: Labels, by: number, replace: boolean): void {
    const key = this.key(labels);
    const sample = this.series.get(key);
    if (sample) sample.value = replace ? by : sample.value + by;
    else this.series.set(key, { labels: this.ownLabels(labels), value: by });
  }

  remove(labels: Labels): void {
    this.series.delete(this.key(labels));
  }

  override collectNow(): void {
    this.collect?.(this as unknown as Self);
  }

  /** The series now, as copies. */
  get(): { values: Sample[] } {
    this.collectNow();
    return { values: this.snapshot() };
  }

  protected *lines(): Generator<string> {
    // a copy: reconciles run between pieces, and a series removed and set again would
    // otherwise be written twice, or a certificate's Ready series half old, half new
    for (const s of this.snapshot())
      yield `${this.name}${this.labelText(s.labels)} ${formatValue(s.value)}\n`;
  }

  private snapshot(): Sample[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }
}

export class Counter extends Scalar<Counter> {
  readonly type = 'counter';
  inc(labels: Labels = {}, by = 1): void {
    this.add(labels, by, false);
  }
  /** A total counted elsewhere (the kernel's CPU time), set at scrape time. */
  setTotal(labels: Labels, value: number): void {
    this.add(labels, value, true);
  }
}

export class Gauge extends Scalar<Gauge> {
  readonly type = 'gauge';
  set(labels: Labels, value: number): void {
    this.add(labels, value, true);
  }
}

export class Histogram extends Metric {
  readonly type = 'histogram';
  private readonly buckets: readonly number[];
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();

  constructor(options: Options & { buckets: readonly number[] }, registry: Registry) {
    super(options, registry);
    this.buckets = [...options.buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels, value: number): void {
    const key = this.key(labels);
    let series = this.series.get(key);
    if (!series) {
      const own = this.ownLabels(labels);
      series = { labels: own, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    const index = this.buckets.findIndex((upper) => value <= upper);
    if (index >= 0) series.counts[index]! += 1;
    series.sum += value;
    series.count += 1; // the +Inf bucket
  }

  protected *lines(): Generator<string> {
    const now = [...this.series.values()].map((s) => ({ ...s, counts: [...s.counts] }));
    for (const s of now) {
      let cumulative = 0;
      for (const [i, upper] of this.buckets.entries()) {
        cumulative += s.counts[i]!;
        yield `${this.name}_bucket${this.labelText(s.labels, `le="${formatValue(upper)}"`)} ${cumulative}\n`;
      }
      yield `${this.name}_bucket${this.labelText(s.labels, 'le="+Inf"')} ${s.count}\n`;
      yield `${this.name}_sum${this.labelText(s.labels)} ${formatValue(s.sum)}\n`;
      yield `${this.name}_count${this.labelText(s.labels)} ${s.count}\n`;
    }
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * The process series Prometheus' client libraries export (the names prom-client used), read at
 * scrape time: CPU, memory, file descriptors, start time, the V8 heap and Node's version.
 */
export function registerProcessMetrics(registry: Registry): void {
  const startTime = Math.round((Date.now() - performance.now()) / 1000);
  const cpuUser = new Counter(
    { name: 'process_cpu_user_seconds_total', help: 'User CPU time spent in seconds.' },
    registry,
  );
  const cpuSystem = new Counter(
    { name: 'process_cpu_system_seconds_total', help: 'System CPU time spent in seconds.' },
    registry,
  );
  new Counter(
    {
      name: 'process_cpu_seconds_total',
      help: 'Total user and system CPU time spent in seconds.',
      collect: (total) => {
        const usage = process.cpuUsage();
        cpuUser.setTotal({}, usage.user / 1e6);
        cpuSystem.setTotal({}, usage.system / 1e6);
        total.setTotal({}, (usage.user + usage.system) / 1e6);
      },
    },
    registry,
  );
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge(
      {
        name,
        help,
        collect: (g) => {
          const value = read();
          if (value === undefined) g.remove({});
          else g.set({}, value);
        },
      },
      registry,
    );
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () =>
    process.memoryUsage.rss(),
  );
  gauge(
    'process_start_time_seconds',
    'Start time of the process since unix epoch in seconds.',
    () => startTime,
  );
  gauge('process_open_fds', 'Number of open file descriptors.', openFileDescriptors);
  gauge('process_max_fds', 'Maximum number of open file descriptors.', maxFileDescriptors);
  gauge(
    'nodejs_heap_size_total_bytes',
    'Process heap size from Node.js in bytes.',
    () => process.memoryUsage().heapTotal,
  );
  gauge(
    'nodejs_heap_size_used_bytes',
    'Process heap size used from Node.js in bytes.',
    () => process.memoryUsage().heapUsed,
  );
  gauge(
    'nodejs_external_memory_bytes',
    'Node.js external memory size in bytes.',
    () => process.memoryUsage().external,
  );
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  new Gauge(
    {
      name: 'nodejs_version_info',
      help: 'Node.js version info.',
      labelNames: ['version', 'major', 'minor', 'patch'],
    },
    registry,
  ).set({ version: process.version, major, minor, patch }, 1);
}

/** Linux only (/proc); elsewhere the series is absent. */
function openFileDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1; // the directory handle readdir opened
  } catch {
    return undefined;
  }
}

function maxFileDescriptors(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}
