// The operator as a real process (src/main.ts) against the ARM test server: its CA trusted
// through NODE_EXTRA_CA_CERTS (with the Key Vault emulator's), its managed identity's tokens
// from the test server's token endpoint (or the emulator's, when it verifies vault keys).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ArmTestServer } from './arm-server.ts';
import { testenv } from './cluster.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface OperatorProcess {
  output(): string;
  stop(): Promise<number | null>;
}

export function startOperatorProcess(
  namespace: string,
  arm: ArmTestServer,
  options: {
    recheckInterval?: string;
    useVaultEmulatorTokens?: boolean;
    /** ARM / Graph and the token endpoint through something else (a fault-injecting proxy). */
    armEndpoint?: string;
    tokenAuthority?: string;
    env?: Record<string, string>;
  } = {},
): OperatorProcess {
  const env = testenv();
  const vaultHost = env.vaultUrl ? new URL(env.vaultUrl).host : '';
  const useEmulator = options.useVaultEmulatorTokens === true && !!env.tokenAuthority;
  arm.acceptForeignTokens = useEmulator;
  const child = spawn(
    process.execPath,
    [
      'src/main.ts',
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_EXTRA_CA_CERTS: arm.caBundle(env.vaultCaFile),
        AZURE_POD_IDENTITY_AUTHORITY_HOST:
          options.tokenAuthority ?? (useEmulator ? env.tokenAuthority : arm.tokenAuthority),
        B2B_KUBECONFIG: env.operatorKubeconfig,
        B2B_WATCH_NAMESPACE: namespace,
        B2B_LOG_LEVEL: 'debug',
        B2B_RECHECK_INTERVAL: options.recheckInterval ?? '1h',
        B2B_ALLOWED_VAULT_HOSTS: vaultHost,
        B2B_AZURE_ARM_ENDPOINT: options.armEndpoint ?? arm.url,
        B2B_AZURE_GRAPH_ENDPOINT: options.armEndpoint ?? arm.url,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
