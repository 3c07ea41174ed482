// `b2b`: the command-line companion of the operator. Each subcommand loads only what it needs
// (inspect and validate never load the Kubernetes client), so the command starts fast.
// Exit codes: 0 success, 1 a check failed (or the cluster could not be asked), 2 usage error.
import { packageVersion } from '../operator/config-help.ts';
import { UsageError, has, parseArgs, usage, type FlagSpec } from './args.ts';

export interface Io {
  argv: readonly string[];
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: () => Buffer;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now: () => Date;
}

type Command = {
  synopsis: string;
  description: string;
  flags: FlagSpec[];
  run: (io: Io, args: ReturnType<typeof parseArgs>) => Promise<number>;
};

const help: FlagSpec = { name: 'help', short: 'h', help: 'show this help' };
const output = (choices: string): FlagSpec => ({
  name: 'output',
  short: 'o',
  value: 'FORMAT',
  help: `output format: ${choices}`,
  default: 'human',
});
const kubeconfig: FlagSpec = {
  name: 'kubeconfig',
  value: 'FILE',
  help: "kubeconfig file (default: the files in $KUBECONFIG, else ~/.kube/config, else the pod's service account)",
};
const namespace: FlagSpec = {
  name: 'namespace',
  short: 'n',
  value: 'NS',
  help: "namespace (default: the kubeconfig context's, else default)",
};

export const version = packageVersion;

const commands: Record<string, Command> = {
  validate: {
    synopsis: 'b2b validate [-f PATH]... [PATH]... [-o human|json|sarif] [--strict]',
    description: `Checks Certificates and IntegrationAccounts in YAML/JSON files, folders and streams (- is
standard input, e.g. \`kustomize build . | b2b validate -f -\`) as the API server and the operator
would, without a cluster: the CRD schema and CEL rules of crds/, then the operator's certificate
checks on inline sources and on Secrets/ConfigMaps in the same input, the account quota and the
expiry warning. A source or account that is not in the input is resolved at apply time (LATER).
Exit 1 when any object fails (with --strict also on warnings), else 0.`,
    flags: [
      {
        name: 'filename',
        short: 'f',
        value: 'PATH',
        repeated: true,
        help: 'file, folder or - (repeatable)',
      },
      output('human, json, sarif'),
      { name: 'strict', help: 'warnings (e.g. ExpiresSoon) fail too' },
      {
        name: 'warn-expiring',
        value: 'DURATION',
        help: "warn for certificates expiring within DURATION, a Go duration as spec.expiryWarning (720h = 30 days); default: each certificate's spec.expiryWarning",
      },
      {
        name: 'allowed-vault-hosts',
        value: 'HOSTS',
        help: 'extra vault hosts the operator allows (as its flag of the same name)',
        default: '$B2B_ALLOWED_VAULT_HOSTS',
      },
      { ...namespace, help: 'namespace of objects that name none', default: 'default' },
      help,
    ],
    run: async (io, args) => (await import('./validate-command.ts')).runValidate(io, args),
  },
  inspect: {
    synopsis: 'b2b inspect FILE|- [-o human|json]',
    description: `Shows what the operator would put in status for a certificate (thumbprints, subject, issuer,
serial, dates, Key Usage, EKU, key algorithm and size) and its verdict as a Public and as a
Private certificate. Reads PEM (one certificate or a bundle), DER, or base64 of DER.
Exit 1 when the input is not a certificate, else 0.`,
    flags: [output('human, json'), help],
    run: async (io, args) => (await import('./inspect-command.ts')).runInspect(io, args),
  },
  status: {
    synopsis:
      'b2b status [-n NS | -A] [-o human|json]\n       b2b status certificate NAME [-n NS] [-o human|json]',
    description: `Against the current kubeconfig: accounts and certificates in one table, most urgent first
(failing, waiting, expiring soonest), with reason and expiry. \`status certificate NAME\` explains
one certificate: its conditions, events and store entry in plain words; it exits 1 when the
certificate is not Ready.`,
    flags: [
      namespace,
      { name: 'all-namespaces', short: 'A', help: 'all namespaces' },
      output('human, json'),
      kubeconfig,
      help,
    ],
    run: async (io, args) => (await import('./status-command.ts')).runStatus(io, args),
  },
  check: {
    synopsis: 'b2b check api [--wait DURATION] [-n NS] [-o human|json]',
    description: `Waits until the CRDs are installed and served and the operator answers: a probe
IntegrationAccount (generateName b2b-check-api-) created in NS is processed by the operator
(status.observedGeneration reaches its generation), then deleted. For CI pipelines after an
install. Exit 0 when both hold within --wait, else 1 with what is missing.`,
    flags: [
      { name: 'wait', value: 'DURATION', help: 'how long to keep trying', default: '2m' },
      {
        ...namespace,
        help: 'namespace for the probe (one the operator watches)',
        default: 'default',
      },
      output('human, json'),
      kubeconfig,
      help,
    ],
    run: async (io, args) => (await import('./check-api.ts')).runCheckApi(io, args),
  },
  import: {
    synopsis:
      'b2b import azure ACCOUNT_ID | --subscription ID --resource-group RG --name NAME [-n NS] [-o yaml|json] [--output-dir DIR] [--dry-run]',
    description: `Reads an Azure Logic Apps integration account through ARM with your own Azure sign-in (Azure
CLI \`az login\`, environment, managed identity: the DefaultAzureCredential chain) and writes one
Certificate per certificate entry and the IntegrationAccount (store azure, its key vaults), ready
to commit: Public ones with the certificate inline, Private ones with their key in the vault the
entry names. Entries the operator marked keep their namespace/name. Only reads: Azure is not
changed. Each manifest is checked as \`b2b validate\` checks it; an entry that would fail is left
out and named on standard error. Exit 1 when an entry was left out (or Azure could not be read).`,
    flags: [
      { name: 'subscription', value: 'ID', help: "the integration account's subscription" },
      { name: 'resource-group', value: 'RG', help: "the integration account's resource group" },
      { name: 'name', value: 'NAME', help: "the integration account's name in Azure" },
      { ...namespace, help: 'namespace of the manifests', default: 'default' },
      { ...output('yaml, json'), default: 'yaml' },
      {
        name: 'output-dir',
        value: 'DIR',
        help: 'one file per object in DIR/NAMESPACE/ instead of stdout',
      },
      { name: 'dry-run', help: 'only list what would be written: name, type, thumbprint, expiry' },
      {
        name: 'cloud',
        value: 'CLOUD',
        help: 'AzurePublic, AzureChina or AzureUSGovernment (ARM and sign-in endpoints follow it)',
        default: 'AzurePublic',
      },
      {
        name: 'azure-arm-endpoint',
        value: 'URL',
        help: "override the cloud's ARM endpoint (as the operator's flag of the same name)",
        default: '$B2B_AZURE_ARM_ENDPOINT',
      },
      {
        name: 'auth',
        value: 'METHOD',
        help: "the operator's Azure identity in the manifests: workloadIdentity or managedIdentity",
        default: 'workloadIdentity',
      },
      {
        name: 'deletion-policy',
        value: 'POLICY',
        help: "the Certificates' deletionPolicy: Retain keeps an Azure entry when its Certificate is deleted",
        default: 'Retain',
      },
      help,
    ],
    run: async (io, args) => (await import('./import-command.ts')).runImport(io, args),
  },
};

function topUsage(): string {
  // Every synopsis line: `status certificate NAME` is a command of its own to users.
  const rows = Object.entries(commands).flatMap(([name, c]) =>
    c.synopsis
      .split('\n')
      .map((line) => `  ${name.padEnd(9)}${line.trim().replace(/^b2b \S+ ?/, '')}`),
  );
  return `Usage: b2b COMMAND [flags]   (also as kubectl b2b COMMAND)

The command-line companion of the b2b-certificate-operator: the operator's own checks for
GitOps repositories, and a view of the cluster for whoever is on call.

Commands:
${rows.join('\n')}
  version  print the version

Run \`b2b COMMAND --help\` for a command's flags. Exit codes: 0 ok, 1 a check failed, 2 usage.
`;
}

export async function main(io: Io): Promise<number> {
  const [name, ...rest] = io.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    io.stdout(`b2b ${version()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`error: unknown command ${name}\n\n${topUsage()}`);
    return 2;
  }
  try {
    const args = parseArgs(rest, command.flags);
    if (has(args, 'help')) {
      io.stdout(usage(command.synopsis, command.description, command.flags));
      return 0;
    }
    return await command.run(io, args);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`error: ${err.message}\nRun \`b2b ${name} --help\` for usage.\n`);
      return 2;
    }
    io.stderr(`error: ${(err as Error).message}\n`);
    return 1;
  }
}
