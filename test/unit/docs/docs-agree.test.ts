// The lists users read must be the lists the code has: operator flags and their defaults
// (docs/API.md, and `--help`), metrics with their labels (docs/API.md, docs/operations.md),
// and one troubleshooting row per condition reason (docs/operations.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Reason } from '../../../src/api/reasons.ts';
import { envName, flags } from '../../../src/operator/config.ts';
import { operatorUsage } from '../../../src/operator/config-help.ts';
import { Metrics } from '../../../src/operator/metrics.ts';
import { Registry, registerProcessMetrics } from '../../../src/operator/prometheus.ts';

const doc = (name: string) =>
  readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');

/** The text under `## <title...>` up to the next `## ` heading. */
function section(markdown: string, titleStart: string): string {
  const start = markdown.split('\n').findIndex((l) => l.startsWith(`## ${titleStart}`));
  if (start < 0) throw new Error(`no section "## ${titleStart}"`);
  const rest = markdown.split('\n').slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('## '));
  return rest.slice(0, end < 0 ? undefined : end).join('\n');
}

/** The cells of each body row of the first Markdown table in `text`. */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter((l) => l.startsWith('|'));
  return lines.slice(2).map((l) =>
    l
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim()),
  );
}

const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

describe('docs/API.md "Operator flags" is the flags of config.ts', () => {
  it('has a row for every flag, with its variable and default, and no other', () => {
    const rows = tableRows(section(doc('API.md'), 'Operator flags'));
    const documented = new Map(rows.map(([flag, env, dflt]) => [unquote(flag!), { env, dflt }]));
    const expected = Object.entries(flags).map(([name, value]) => [
      `--${name}`,
      { env: `\`${envName(name)}\``, dflt: value === '' ? '`""`' : `\`${value}\`` },
    ]);
    expect([...documented.entries()].sort()).toEqual(expected.sort());
  });

  it('and --help prints each with the same default', () => {
    const help = operatorUsage();
    for (const [name, value] of Object.entries(flags)) {
      const block = help.split('\n  --').find((b) => b.startsWith(`${name}\n`));
      expect(block, name).toContain(`env ${envName(name)}, default ${value === '' ? '""' : value}`);
    }
  });
});

describe("the kubeconfig order is the code's (src/kube/credentials.ts) wherever it is told", () => {
  const order = /--kubeconfig.*?\$KUBECONFIG.*?~\/\.kube\/config.*?service account/s;

  it.each(['API.md', 'operations.md', 'cli.md', '../README.md'])('%s', (name) => {
    const text = doc(name).replace(/\s+/g, ' ');
    const mentions = text.match(
      /[^.]*(?:\$KUBECONFIG|in-cluster)[^.]*(?:~\/\.kube\/config|service account)[^.]*/g,
    );
    expect(mentions, name).not.toBeNull();
    for (const sentence of mentions!)
      expect(sentence).toMatch(/\$KUBECONFIG.*~\/\.kube\/config.*service account/);
    expect(text).toMatch(order);
  });

  it('in the help of the operator and of b2b', async () => {
    expect(operatorUsage()).toMatch(
      /empty = the files in \$KUBECONFIG, else ~\/\.kube\/config, else the pod's service account/,
    );
    const { main } = await import('../../../src/cli/main.ts');
    let out = '';
    await main({
      argv: ['status', '--help'],
      stdout: (t) => (out += t),
      stderr: () => {},
      stdin: () => Buffer.alloc(0),
      env: {},
      cwd: '.',
      now: () => new Date(),
    });
    expect(out).toMatch(/\$KUBECONFIG, else ~\/\.kube\/config, else the pod's service account/);
  });
});

describe('docs/operations.md "Kubernetes versions" backs the chart\'s kubeVersion', () => {
  it('lists the oldest version the chart claims as tested and passed', () => {
    const chart = readFileSync(
      new URL('../../../charts/b2b-certificate-operator/Chart.yaml', import.meta.url),
      'utf8',
    );
    const oldest = /^kubeVersion: ">=(\d+\.\d+\.\d+)-0"$/m.exec(chart)?.[1];
    expect(oldest).toBeDefined();
    const rows = tableRows(section(doc('operations.md'), 'Kubernetes versions'));
    const row = rows.find(([version]) => unquote(version!.split(' ')[0]!) === oldest);
    expect(row, `a row for ${oldest}`).toBeDefined();
    expect(row!.join(' ')).toMatch(/\bpassed\b/);
  });
});

describe('the metric lists are the metrics the operator registers', () => {
  const registered = new Metrics().registry
    .describe()
    .map((m) => ({ name: m.name, labels: m.labelNames }));

  it('docs/API.md names each with its labels, and no other b2b_ metric', () => {
    const text = section(doc('API.md'), 'Metrics');
    for (const { name, labels } of registered)
      expect(text).toContain(labels.length ? `\`${name}{${labels.join(',')}}` : `\`${name}\``);
    const named = new Set(text.match(/\bb2b_[a-z_]+/g));
    expect([...named].sort()).toEqual(registered.map((m) => m.name).sort());
  });

  it('docs/API.md names each process series the operator exports', () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const text = section(doc('API.md'), 'Metrics');
    const named = registry.describe().map((m) => m.name);
    expect(named.length).toBeGreaterThan(5);
    for (const name of named) expect(text, name).toContain(`\`${name}\``);
  });

  it('docs/operations.md names each, and no other b2b_ metric', () => {
    const named = new Set(section(doc('operations.md'), 'Metrics').match(/\bb2b_[a-z_]+/g));
    expect([...named].sort()).toEqual(registered.map((m) => m.name).sort());
  });
});

describe('docs/operations.md "Troubleshooting" has one row per reason of src/api/reasons.ts', () => {
  const rows = () => tableRows(section(doc('operations.md'), 'Troubleshooting'));

  it('and no row for a reason the operator does not have', () => {
    const documented = rows().map(([reason]) => unquote(reason!));
    expect([...documented].sort()).toEqual(Object.values(Reason).sort());
  });

  it('says what each means and what to check', () => {
    for (const [reason, meaning, check] of rows()) {
      expect(meaning, reason).toMatch(/\w{3}/);
      expect(check, reason).toMatch(/\w{3}/);
    }
  });
});
