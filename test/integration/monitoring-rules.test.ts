// The alert rules of deploy/monitoring/ with Prometheus' own promtool (built from the Go
// module proxy): `promtool check rules`, and `promtool test rules` with series shaped like
// the operator's metrics, so each alert is shown to fire (or stay quiet) when it should.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, run } from '../support/kubectl.ts';
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
});
