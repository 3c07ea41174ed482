// The Go tools the GitOps tests run, built once from the Go module proxy and cached
// (hack/build-*.sh print the cached binary's path; `make tools` builds them ahead).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './kubectl.ts';

/** The path of hack/build-<name>.sh's binary; builds it when missing (minutes when cold). */
export function goTool(name: 'helm' | 'promtool' | 'argocd-health'): string {
  return execFileSync(join(repoRoot, `hack/build-${name}.sh`), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** A cold build can take minutes on a shared 2-core machine. */
export const TOOL_BUILD_TIMEOUT_MS = 30 * 60_000;
