// `b2b inspect FILE|-`.
import { readFileSync } from 'node:fs';
import { UsageError, flag, type ParsedArgs } from './args.ts';
import { humanInspection, inspectSource } from './inspect.ts';
import type { Io } from './main.ts';

export function runInspect(io: Io, args: ParsedArgs): Promise<number> {
  const [path, ...extra] = args.positional;
  if (path === undefined || extra.length)
    throw new UsageError('name one certificate file, or - for standard input');
  const format = flag(args, 'output') ?? 'human';
  if (!['human', 'json'].includes(format))
    throw new UsageError(`-o must be human or json, not ${format}`);
  const data = path === '-' ? io.stdin() : readFileSync(path);
  const report = inspectSource(data, io.now());
  io.stdout(format === 'json' ? JSON.stringify(report, null, 2) + '\n' : humanInspection(report));
  return Promise.resolve(report.status ? 0 : 1);
}
