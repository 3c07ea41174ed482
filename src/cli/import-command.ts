// `b2b import azure`: flags to an account location, ARM to a plan, the plan checked as
// `b2b validate` checks it, then written as manifests (stdout or one file per object) or, with
// --dry-run, listed. Notes and skipped entries go to stderr, so stdout stays a clean stream.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  cloudEndpoints,
  parseIntegrationAccountId,
  type AzureCloud,
} from '../stores/azure/arm-ids.ts';
import { UsageError, flag, has, type ParsedArgs } from './args.ts';
import { loadCrds } from './crd-schema.ts';
import { readAzureAccount, type AccountLocation } from './import-azure-arm.ts';
import { planImport, validatePlan, type AuthMethod, type ImportPlan } from './import-azure.ts';
import type { Io } from './main.ts';

const clouds = Object.keys(cloudEndpoints) as AzureCloud[];

export async function runImport(io: Io, args: ParsedArgs): Promise<number> {
  const [source, ...rest] = args.positional;
  if (source !== 'azure')
    throw new UsageError(
      `name what to import from: b2b import azure (${source === undefined ? 'nothing named' : `not ${source}`})`,
    );
  const where = accountLocation(rest, args);
  const format = flag(args, 'output') ?? 'yaml';
  if (!['yaml', 'json'].includes(format))
    throw new UsageError(`-o must be yaml or json, not ${format}`);
  const cloud = (flag(args, 'cloud') ?? 'AzurePublic') as AzureCloud;
  if (!clouds.includes(cloud))
    throw new UsageError(`--cloud must be one of ${clouds.join(', ')}, not ${cloud}`);
  const auth = (flag(args, 'auth') ?? 'workloadIdentity') as AuthMethod;
  if (!['workloadIdentity', 'managedIdentity'].includes(auth))
    throw new UsageError(`--auth must be workloadIdentity or managedIdentity, not ${auth}`);
  const deletionPolicy = flag(args, 'deletion-policy') ?? 'Retain';
  if (deletionPolicy !== 'Delete' && deletionPolicy !== 'Retain')
    throw new UsageError(`--deletion-policy must be Retain or Delete, not ${deletionPolicy}`);
  const namespace = flag(args, 'namespace') ?? 'default';

  const snapshot = await readAzureAccount(where, {
    cloud,
    armEndpoint: flag(args, 'azure-arm-endpoint') ?? io.env.B2B_AZURE_ARM_ENDPOINT,
    env: io.env,
  });
  const plan = validatePlan(
    planImport(snapshot.account, snapshot.entries, {
      namespace,
      cloud,
      auth,
      deletionPolicy,
      vaultUrls: snapshot.vaultUrls,
    }),
    loadCrds(),
    io.now(),
    // vault hosts outside Azure's suffixes (Azure Stack) the operator is started with, as validate
    (io.env.B2B_ALLOWED_VAULT_HOSTS ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  );

  for (const note of plan.notes) io.stderr(`note: ${note}\n`);
  for (const s of plan.skipped)
    io.stderr(`skipped: certificate ${s.azureName}: ${s.reason}: ${s.message}\n`);
  if (has(args, 'dry-run')) io.stdout(format === 'json' ? dryRunJson(plan) : dryRunTable(plan));
  else {
    const dir = flag(args, 'output-dir');
    if (dir !== undefined) writeFiles(io, plan, dir, format);
    else io.stdout(format === 'json' ? asJsonList(plan) : asYamlStream(plan, snapshot.account.id));
  }
  const privateCount = plan.certificates.filter((c) => c.type === 'Private').length;
  io.stderr(
    `${has(args, 'dry-run') ? 'would import' : 'imported'} ${plan.certificates.length} certificates (${plan.certificates.length - privateCount} Public, ${privateCount} Private) from ${snapshot.account.id}${plan.skipped.length ? `; ${plan.skipped.length} skipped (see above)` : ''}\n`,
  );
  return plan.skipped.length ? 1 : 0;
}

function accountLocation(rest: readonly string[], args: ParsedArgs): AccountLocation {
  const byFlags = ['subscription', 'resource-group', 'name'].map((f) => flag(args, f));
  if (rest.length > 1)
    throw new UsageError(`one integration account at a time, not ${rest.join(' ')}`);
  if (rest.length === 1) {
    if (byFlags.some((v) => v !== undefined))
      throw new UsageError(
        'give the resource ID or --subscription/--resource-group/--name, not both',
      );
    const parsed = parseIntegrationAccountId(rest[0]!);
    if (!parsed)
      throw new UsageError(
        `not an integration account's resource ID: ${rest[0]!} (expected /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Logic/integrationAccounts/<name>)`,
      );
    return parsed;
  }
  const [subscriptionId, resourceGroup, name] = byFlags;
  if (!subscriptionId || !resourceGroup || !name)
    throw new UsageError(
      'name the integration account: its resource ID (az logic integration-account show -g <group> -n <name> --query id -o tsv), or --subscription, --resource-group and --name',
    );
  return { subscriptionId, resourceGroup, name };
}

const objectsOf = (plan: ImportPlan) => [
  ...plan.accounts,
  ...plan.certificates.map((c) => c.manifest),
];

function asYamlStream(plan: ImportPlan, accountId: string): string {
  const header = `# Imported from the Azure integration account ${accountId} by \`b2b import azure\`.\n`;
  return header + objectsOf(plan).map(toYaml).join('---\n');
}

const toYaml = (object: unknown) => stringify(object, { lineWidth: 0, blockQuote: 'literal' });

function asJsonList(plan: ImportPlan): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objectsOf(plan) }, null, 2) + '\n';
}

/** One file per object: DIR/<namespace>/<kind>-<name>.<yaml|json>, for `kubectl apply -R -f DIR`. */
function writeFiles(io: Io, plan: ImportPlan, dir: string, format: string): void {
  for (const object of objectsOf(plan)) {
    const folder = join(io.cwd, dir, object.metadata.namespace);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `${object.kind.toLowerCase()}-${object.metadata.name}.${format}`);
    writeFileSync(
      file,
      format === 'json' ? JSON.stringify(object, null, 2) + '\n' : toYaml(object),
    );
    io.stdout(`${file}\n`);
  }
}

function dryRunTable(plan: ImportPlan): string {
  const rows = [
    ['NAME', 'AZURE NAME', 'TYPE', 'THUMBPRINT', 'EXPIRES'],
    ...plan.certificates.map((c) => [
      `${c.namespace}/${c.name}${c.marked ? ' (marked)' : ''}`,
      c.azureName,
      c.type,
      c.thumbprint,
      c.notAfter.toISOString(),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

function dryRunJson(plan: ImportPlan): string {
  return (
    JSON.stringify(
      {
        certificates: plan.certificates.map(({ manifest: _manifest, notAfter, ...c }) => ({
          ...c,
          notAfter: notAfter.toISOString(),
        })),
        skipped: plan.skipped,
        notes: plan.notes,
      },
      null,
      2,
    ) + '\n'
  );
}
