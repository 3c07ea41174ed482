// `b2b validate`: flags to options, files to objects, results to the chosen output.
import { parseGoDuration } from '../certificates/duration.ts';
import { UsageError, flag, has, type ParsedArgs } from './args.ts';
import { loadCrds } from './crd-schema.ts';
import { readManifests } from './input.ts';
import { version, type Io } from './main.ts';
import { humanReport, jsonReport, sarifReport } from './report.ts';
import { validateObjects } from './validate.ts';

export function runValidate(io: Io, args: ParsedArgs): Promise<number> {
  const paths = [...(args.flags.get('filename') ?? []), ...args.positional];
  if (paths.length === 0)
    throw new UsageError('name what to validate: -f PATH (a file, a folder or -)');
  const format = flag(args, 'output') ?? 'human';
  if (!['human', 'json', 'sarif'].includes(format))
    throw new UsageError(`-o must be human, json or sarif, not ${format}`);
  const warnText = flag(args, 'warn-expiring');
  // The syntax of spec.expiryWarning, so a value copied between the two means the same.
  const warnExpiringMs = warnText === undefined ? undefined : parseGoDuration(warnText);
  if (warnText !== undefined && warnExpiringMs === undefined)
    throw new UsageError(
      `--warn-expiring must be a Go duration as spec.expiryWarning takes, such as 720h (30 days) or 1h30m, not ${warnText}`,
    );
  const hosts = flag(args, 'allowed-vault-hosts') ?? io.env.B2B_ALLOWED_VAULT_HOSTS ?? '';

  const input = readManifests(paths, () => io.stdin().toString('utf8'));
  const results = validateObjects(input.objects, loadCrds(), {
    now: io.now(),
    warnExpiringMs,
    allowedVaultHosts: hosts
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    namespace: flag(args, 'namespace') ?? 'default',
  });
  const text =
    format === 'json'
      ? jsonReport(results, input.problems)
      : format === 'sarif'
        ? sarifReport(results, input.problems, version(), io.cwd)
        : humanReport(results, input.problems);
  io.stdout(text);
  const failing = (level: string) => level === 'fail' || (has(args, 'strict') && level === 'warn');
  return Promise.resolve(
    input.problems.length > 0 || results.some((r) => failing(r.level)) ? 1 : 0,
  );
}
