// The three outputs of `b2b validate`: one line per object for people, JSON for scripts, and
// SARIF 2.1.0 for code-scanning annotations (GitHub shows each result on its file and line).
import { relative } from 'node:path';
import type { InputProblem } from './input.ts';
import type { Level, ObjectResult } from './validate.ts';

const label: Record<Level, string> = {
  fail: 'FAIL',
  warn: 'WARN',
  pending: 'LATER',
  pass: 'OK',
};

export function humanReport(
  results: readonly ObjectResult[],
  problems: readonly InputProblem[],
): string {
  const lines = [
    ...problems.map((p) => `FAIL   ${p.file}:${p.line}  ${p.message}`),
    ...results.map(
      (r) =>
        `${label[r.level].padEnd(5)}  ${r.kind} ${r.namespace}/${r.name}  ${r.reason}: ${r.message}  (${r.file}:${r.line})`,
    ),
  ];
  const count = (level: Level) => results.filter((r) => r.level === level).length;
  const failed = count('fail') + problems.length;
  lines.push(
    `${results.length} objects: ${count('pass')} ok, ${failed} failed, ${count('warn')} warnings, ${count('pending')} resolved at apply time`,
  );
  return lines.join('\n') + '\n';
}

export function jsonReport(
  results: readonly ObjectResult[],
  problems: readonly InputProblem[],
): string {
  return JSON.stringify({ results, problems }, null, 2) + '\n';
}

const sarifLevel: Record<Level, string> = {
  fail: 'error',
  warn: 'warning',
  pending: 'note',
  pass: 'none',
};

export function sarifReport(
  results: readonly ObjectResult[],
  problems: readonly InputProblem[],
  version: string,
  cwd: string,
): string {
  const uri = (file: string) => (file === 'stdin' ? 'stdin' : relative(cwd, file) || file);
  const location = (file: string, line: number) => [
    { physicalLocation: { artifactLocation: { uri: uri(file) }, region: { startLine: line } } },
  ];
  const shown = results.filter((r) => r.level !== 'pass');
  const ruleIds = [
    ...new Set([...shown.map((r) => r.reason), ...(problems.length ? ['InvalidInput'] : [])]),
  ];
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'b2b',
            version,
            rules: ruleIds.map((id) => ({ id, shortDescription: { text: id } })),
          },
        },
        results: [
          ...problems.map((p) => ({
            ruleId: 'InvalidInput',
            level: 'error',
            message: { text: p.message },
            locations: location(p.file, p.line),
          })),
          ...shown.map((r) => ({
            ruleId: r.reason,
            level: sarifLevel[r.level],
            message: { text: `${r.kind} ${r.namespace}/${r.name}: ${r.message}` },
            locations: location(r.file, r.line),
          })),
        ],
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
