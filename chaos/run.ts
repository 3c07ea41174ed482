// make chaos: the chaos run of chaos.ts on a fresh local control plane, then its report.
//   node chaos/run.ts [--count 1000] [--kills 20] [--vault-outage-seconds 60] [--seed 1] ...
// Exits 1 when a check fails. Like the benchmarks, it starts its own test environment, then
// runs itself again with the emulator's CA trusted (Node reads NODE_EXTRA_CA_CERTS at start-up).
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { installCrds, readEnv, rerunInVaultTestenv } from '../bench/support.ts';
import { runChaos, type ChaosOptions } from './chaos.ts';
import { formatReport } from './report.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    kills: { type: 'string', default: '20' },
    'kill-interval-seconds': { type: 'string', default: '20' },
    'leader-kill-share': { type: 'string', default: '0.5' },
    'apiserver-restarts': { type: 'string', default: '2' },
    'etcd-restarts': { type: 'string', default: '1' },
    'down-seconds': { type: 'string', default: '10' },
    'vault-outage-seconds': { type: 'string', default: '60' },
    'throttle-seconds': { type: 'string', default: '30' },
    'quiet-seconds': { type: 'string', default: '30' },
    'converge-timeout-seconds': { type: 'string', default: '300' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    report: { type: 'string' },
    keep: { type: 'boolean', default: false },
    testenv: { type: 'string' },
  },
});

async function inEnvironment(dir: string): Promise<number> {
  const vars = readEnv(dir);
  await installCrds(vars);
  const options: ChaosOptions = {
    count: Number(values.count),
    kills: Number(values.kills),
    killIntervalSeconds: Number(values['kill-interval-seconds']),
    leaderKillShare: Number(values['leader-kill-share']),
    apiserverRestarts: Number(values['apiserver-restarts']),
    etcdRestarts: Number(values['etcd-restarts']),
    downSeconds: Number(values['down-seconds']),
    vaultOutageSeconds: Number(values['vault-outage-seconds']),
    throttleSeconds: Number(values['throttle-seconds']),
    quietSeconds: Number(values['quiet-seconds']),
    convergeTimeoutSeconds: Number(values['converge-timeout-seconds']),
    seed: Number(values.seed),
    testenvDir: dir,
    adminKubeconfig: vars.KUBECONFIG!,
    operatorKubeconfig: vars.B2B_OPERATOR_KUBECONFIG!,
    vaultUrl: vars.B2B_TEST_VAULT_URL!,
    vaultCaFile: vars.NODE_EXTRA_CA_CERTS!,
    tokenAuthority: vars.AZURE_POD_IDENTITY_AUTHORITY_HOST!,
    log: (line) => console.error(line),
  };
  const report = await runChaos(options);
  const text = formatReport(report, `${cpus().length} cores, Node ${process.version}`);
  console.log(text);
  if (values.report) writeFileSync(values.report, text);
  return report.passed ? 0 : 1;
}

if (values.testenv) {
  process.exitCode = await inEnvironment(values.testenv);
  // Operator processes and sockets are gone; nothing should keep the loop alive.
  process.exit();
} else {
  process.exitCode = rerunInVaultTestenv('b2b-chaos-', values.keep);
}
