// What a V8 heap snapshot holds, by kind: the largest groups of objects by self size (type and
// constructor), and strings by length class. For docs/benchmarks.md's memory profile.
//   node bench/heap-summary.ts Heap.*.heapsnapshot [--top 25]
// Take the snapshot from a running operator started with --heapsnapshot-signal=SIGUSR2
// (OPERATOR_NODE_OPTIONS for the benchmark) by `kill -USR2 PID`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: heap-summary.ts FILE.heapsnapshot');
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const width = fields.length;
const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
  number,
  number,
  number,
];

const groups = new Map<string, { count: number; bytes: number }>();
const strings = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + typeAt]!]!;
  const name = snap.strings[snap.nodes[i + nameAt]!]!;
  const size = snap.nodes[i + sizeAt]!;
  total += size;
  const key = type === 'object' || type === 'closure' ? `${type} ${name}` : type;
  const g = groups.get(key) ?? { count: 0, bytes: 0 };
  g.count++;
  g.bytes += size;
  groups.set(key, g);
  if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
    const cls = size >= 1024 ? '>= 1 KiB' : size >= 128 ? '128 B - 1 KiB' : '< 128 B';
    const s = strings.get(cls) ?? { count: 0, bytes: 0 };
    s.count++;
    s.bytes += size;
    strings.set(cls, s);
  }
}
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`total self size: ${mib(total)} MiB in ${snap.nodes.length / width} objects\n`);
console.log('| kind | objects | MiB |\n|---|---|---|');
for (const [k, g] of [...groups]
  .sort((a, b) => b[1].bytes - a[1].bytes)
  .slice(0, Number(values.top)))
  console.log(`| ${k} | ${g.count} | ${mib(g.bytes)} |`);
console.log('\n| strings | count | MiB |\n|---|---|---|');
for (const [k, s] of strings) console.log(`| ${k} | ${s.count} | ${mib(s.bytes)} |`);
