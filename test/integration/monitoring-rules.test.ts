// The alert rules of deploy/monitoring/ with Prometheus' own promtool (built from the Go
// module proxy): `promtool check rules`, and `promtool test rules` with series shaped like
// the operator's metrics, so each alert is shown to fire (or stay quiet) when it should; and
// `promtool check metrics` over the /metrics text, with Prometheus' own parser.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, run } from '../support/kubectl.ts';
import { Metrics } from '../../src/operator/metrics.ts';
import { goTool, TOOL_BUILD_TIMEOUT_MS } from '../support/tools.ts';

describe('deploy/monitoring/ alert rules', () => {
  let promtool: string;
  beforeAll(() => {
    promtool = goTool('promtool');
  }, TOOL_BUILD_TIMEOUT_MS);

  it('has alert rules that promtool accepts, and that fire on the series the operator exports', async () => {
    const rule = parse(
      readFileSync(join(repoRoot, 'deploy/monitoring/prometheusrule.yaml'), 'utf8'),
    ) as { spec: unknown };
    const dir = mkdtempSync(join(tmpdir(), 'b2b-rules-'));
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify(rule.spec));
    copyFileSync(
      join(repoRoot, 'test/fixtures/prometheus-rules-test.yaml'),
      join(dir, 'rules-test.yaml'),
    );
    const checked = await run(promtool, ['check', 'rules', join(dir, 'rules.yaml')]);
    expect(checked.stdout + checked.stderr).toMatch(/SUCCESS: 7 rules found/);
    expect(checked.code).toBe(0);
    const tested = await run(promtool, ['test', 'rules', 'rules-test.yaml'], { cwd: dir });
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/SUCCESS/);
  });

  it('serves /metrics text that Prometheus parses and promtool finds nothing to lint in', async () => {
    const metrics = new Metrics(true);
    const ids = { namespace: 'b2b', name: 'odd "name"\\x', account: 'contoso', type: 'Public' };
    metrics.setCertificate(ids, 'True', new Date('2027-01-01T00:00:00Z'), 3_600_000);
    metrics.setCertificateInUse('b2b', 'odd "name"\\x', 2);
    metrics.reconcileTotal.inc({ kind: 'Certificate', result: 'success' });
    metrics.reconcileDuration.observe({ kind: 'Certificate' }, 0.02);
    metrics.trackQueue('Certificate', () => ({ depth: 1, delayed: 2 }));
    const text = metrics.registry.metrics();
    const checked = await run(promtool, ['check', 'metrics'], { input: text });
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout + checked.stderr).toBe('');
    expect(text).toMatch(
      /^b2b_reconcile_duration_seconds_bucket\{kind="Certificate",le="\+Inf"\} 1$/m,
    );
  });
});
