// Sums a V8 .cpuprofile (node --cpu-prof) by self time: the top functions and the top modules.
//   node_modules/.bin/node scripts/cpuprofile-summary.ts FILE.cpuprofile [top=30]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/cpuprofile-summary.ts FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) =>
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
);

/** node_modules/<package> (scoped too), src/<file>, node:<module>, or (native). */
function moduleOf(url: string): string {
  const local = url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/');
  if (!local) return '(native)';
  if (!local.startsWith('node_modules/')) return local;
  const parts = local.split('/');
  return parts.slice(0, parts[1]?.startsWith('@') ? 3 : 2).join('/');
}

const byFunction = new Map<string, number>();
const byModule = new Map<string, number>();
let total = 0;
for (const [id, t] of selfTime) {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  const where = url.replace(/^file:\/\/.*?\/(node_modules|src)\//, '$1/') || '(native)';
  const fn = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + t);
  byModule.set(moduleOf(url), (byModule.get(moduleOf(url)) ?? 0) + t);
  total += t;
}

const print = (m: Map<string, number>) => {
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(
      `${(t / 1000).toFixed(0).padStart(8)} ms ${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`,
    );
};
console.log(`${(total / 1e6).toFixed(1)} s sampled`);
console.log('--- self time by function');
print(byFunction);
console.log('--- self time by module');
print(byModule);
