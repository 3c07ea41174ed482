// The Argo CD health script, run by the Lua engine Argo CD embeds (gopher-lua, as
// hack/argocd-health) over Argo CD's own test layout: health_test.yaml and testdata/.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, run } from '../support/kubectl.ts';
import { goTool, TOOL_BUILD_TIMEOUT_MS } from '../support/tools.ts';

const customizations = 'deploy/argocd/resource_customizations/integration.b2b.dev';

describe('Argo CD health.lua', () => {
  let runner: string;
  beforeAll(() => {
    runner = goTool('argocd-health');
  }, TOOL_BUILD_TIMEOUT_MS);

  for (const kind of readdirSync(join(repoRoot, customizations))) {
    it(`gives every ${kind} test case its expected status and message`, async () => {
      const result = await run(runner, [join(customizations, kind)]);
      expect(result.stdout).toMatch(/PASS\n$/);
      // Healthy, Progressing, Degraded, a newer generation, no status, no message.
      expect(result.stdout.match(/^ok /gm)?.length).toBeGreaterThanOrEqual(6);
      expect(result.code).toBe(0);
    });
  }
});
