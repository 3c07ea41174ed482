// The short form of `make chaos` (chaos/chaos.ts, the same code): 40 certificates created,
// edited and deleted while operator processes are SIGKILLed (the leader among them), the API
// server is restarted and the vault is unreachable, then throttled. It runs on a control plane
// of its own (the shared one cannot be stopped under the other test files), with the shared
// Key Vault emulator behind the run's fault proxy.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv, root } from '../../bench/support.ts';
import { runChaos } from '../../chaos/chaos.ts';
import { formatReport } from '../../chaos/report.ts';
import { testenv } from '../support/cluster.ts';
import { NO_EMULATOR } from '../support/vault.ts';

const { vaultUrl, vaultCaFile, tokenAuthority } = testenv();

describe.skipIf(!vaultUrl)(`chaos, short form${vaultUrl ? '' : `: ${NO_EMULATOR}`}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'b2b-chaos-test-'));
  const env = { ...process.env, TESTENV_DIR: dir, TESTENV_VAULT_EMULATOR: '0' };

  beforeAll(() => {
    execFileSync(join(root, 'hack/testenv.sh'), ['up'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const vars = readEnv(dir);
    execFileSync(
      join(vars.PATH!.split(':')[0]!, 'kubectl'),
      ['--kubeconfig', vars.KUBECONFIG!, 'apply', '-f', join(root, 'crds')],
      { stdio: 'ignore' },
    );
  });
  afterAll(() => {
    execFileSync(join(root, 'hack/testenv.sh'), ['down'], { env, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('converges with nothing lost through kills, an API server restart and a vault outage', async () => {
    const vars = readEnv(dir);
    const report = await runChaos({
      count: 40,
      kills: 3,
      killIntervalSeconds: 6,
      leaderKillShare: 0,
      apiserverRestarts: 1,
      etcdRestarts: 0,
      downSeconds: 2,
      vaultOutageSeconds: 10,
      throttleSeconds: 3,
      quietSeconds: 3,
      convergeTimeoutSeconds: 60,
      seed: 1,
      testenvDir: dir,
      adminKubeconfig: vars.KUBECONFIG!,
      operatorKubeconfig: vars.B2B_OPERATOR_KUBECONFIG!,
      vaultUrl: vaultUrl!,
      vaultCaFile: vaultCaFile!,
      tokenAuthority: tokenAuthority!,
      log: () => undefined,
    });
    const text = formatReport(report, 'integration test');
    console.log(text);
    expect(
      (report.faults['SIGKILL leader'] ?? 0) + (report.faults['SIGKILL standby'] ?? 0),
    ).toBeGreaterThanOrEqual(3);
    expect(report.faults['kube-apiserver']).toBe(1);
    expect(report.faults['vault requests reset']).toBeGreaterThan(0);
    expect(report.checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
    expect(report.checks).toHaveLength(8);
  }, 240_000);
});
