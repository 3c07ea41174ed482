// The chaos run's report as text: the workload, the faults with counts and times, each check.
import type { ChaosReport } from './chaos.ts';

export function formatReport(r: ChaosReport, machine: string): string {
  const o = r.options;
  const lines = [
    `make chaos report (seed ${o.seed}; ${machine}; ${r.seconds} s)`,
    '',
    'workload:',
    ...Object.entries(r.workload).map(([k, v]) => `  ${k}: ${v}`),
    '',
    'faults injected:',
    ...Object.entries(r.faults).map(([k, v]) => `  ${k}: ${v}`),
    '',
    'timeline (seconds from the start):',
    ...r.timeline.map((t) => `  ${t.at.toFixed(1).padStart(6)}  ${t.what}`),
    '',
    'checks:',
    ...r.checks.map((c) => `  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}\n        ${c.detail}`),
    '',
    r.passed ? 'chaos: all checks PASS' : 'chaos: FAIL',
  ];
  return lines.join('\n');
}
