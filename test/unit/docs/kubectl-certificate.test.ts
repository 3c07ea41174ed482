// The kind name Certificate is cert-manager's too, and most clusters have it: there a bare
// `kubectl get certificate` lists cert-manager's. Every kubectl command the project shows users
// (README, docs, examples, the chart, the demo's output) names ours as `b2bcert` or
// `certificates.integration.b2b.dev`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../..', import.meta.url).pathname;
const shown = ['README.md', 'docs', 'examples', 'charts', 'hack/demo.sh'];

/** kubectl verbs that take a resource type as their first argument. */
const VERBS = new Set(['get', 'describe', 'wait', 'delete', 'edit', 'annotate', 'patch', 'label']);
/** Flags whose value is the next word (`-n b2b`); the rest are `--flag=value` or booleans. */
const FLAGS_WITH_VALUE = new Set([
  '-n',
  '--namespace',
  '-o',
  '--output',
  '-l',
  '--selector',
  '--timeout',
  '--kubeconfig',
  '--context',
  '-p',
  '--patch',
  '--type',
  '--for',
]);

/**
 * The bare `certificate`/`certificates` a kubectl command on this line names as a resource
 * type (`certificate x`, `certificates/x`, `certificate,secret`), or undefined.
 */
function ambiguousCertificate(line: string): string | undefined {
  for (const match of line.matchAll(/\bkubectl((?: +[^ |;&)`"]+)+)/g)) {
    const words = match[1]!.trim().split(/ +/);
    let i = 0;
    while (i < words.length && words[i]!.startsWith('-'))
      i += FLAGS_WITH_VALUE.has(words[i]!) ? 2 : 1;
    if (!VERBS.has(words[i] ?? '')) continue;
    for (i++; i < words.length; i++) {
      const word = words[i]!;
      if (word.startsWith('-')) {
        if (FLAGS_WITH_VALUE.has(word)) i++;
        continue;
      }
      const types = word.split('/')[0]!.split(',');
      if (types.some((t) => /^certificates?$/.test(t))) return word;
      break; // only the first non-flag word names the resource type
    }
  }
  return undefined;
}

function files(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full).flatMap((entry) => files(join(path, entry)));
}

describe('kubectl commands in the docs name our Certificate unambiguously', () => {
  it('finds the bare names in every form a command takes', () => {
    for (const line of [
      'kubectl get certificate fabrikam -o yaml',
      'gen=$(kubectl get certificate fabrikam -o jsonpath=x)',
      'kubectl wait certificate/fabrikam --for=condition=Ready',
      'kubectl -n b2b describe certificates',
      'kubectl get -n b2b certificates,secrets',
      'kubectl --namespace b2b delete certificate x',
      '`kubectl edit certificate x`',
      'kubectl annotate certificate x a=b',
      'kubectl patch certificate x --type merge -p {}',
    ])
      expect(ambiguousCertificate(line), line).toBeDefined();
    for (const line of [
      'kubectl get b2bcert fabrikam',
      'kubectl wait b2bcert/fabrikam --for=condition=Ready',
      'kubectl -n b2b get certificates.integration.b2b.dev x',
      'kubectl describe certificate.integration.b2b.dev x',
      'kubectl get secrets -l integration.b2b.dev/certificate -o name',
      'kubectl -n b2b create secret tls x --cert a --key b',
      'kubectl get b2b -A',
    ])
      expect(ambiguousCertificate(line), line).toBeUndefined();
  });

  it('README, docs, examples, the chart and the demo use b2bcert or the full name', () => {
    const found: string[] = [];
    for (const file of shown.flatMap(files)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, n) => {
          const word = ambiguousCertificate(line);
          if (word) found.push(`${relative(root, file)}:${n + 1}: ${word}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });

  it('README says why once', () => {
    // One paragraph names cert-manager and the short name to use instead.
    const paragraphs = readFileSync(join(root, 'README.md'), 'utf8').split(/\n\s*\n/);
    expect(
      paragraphs.filter((p) => p.includes('cert-manager') && p.includes('`b2bcert`')),
    ).toHaveLength(1);
  });
});
