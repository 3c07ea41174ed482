// A small argument parser: each command declares its flags; values come as `--flag value`,
// `--flag=value` or `-f value`; repeated flags collect. Errors say which flags exist.
export interface FlagSpec {
  name: string;
  short?: string;
  /** Takes a value (else a switch). */
  value?: string;
  repeated?: boolean;
  help: string;
  default?: string;
}

export interface ParsedArgs {
  flags: Map<string, string[]>;
  positional: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  const byName = (arg: string) =>
    specs.find((s) => `--${s.name}` === arg || (s.short !== undefined && `-${s.short}` === arg));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-' || !arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const eq = arg.indexOf('=');
    const spec = byName(eq > 0 ? arg.slice(0, eq) : arg);
    if (!spec) {
      const known = specs.map((s) => `--${s.name}`).join(' ');
      throw new UsageError(`unknown flag ${arg}; flags: ${known}`);
    }
    let value = 'true';
    if (spec.value) {
      const next = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (next === undefined) throw new UsageError(`--${spec.name} needs a value (${spec.value})`);
      value = next;
    } else if (eq > 0) {
      throw new UsageError(`--${spec.name} takes no value`);
    }
    const seen = flags.get(spec.name) ?? [];
    if (seen.length && !spec.repeated) throw new UsageError(`--${spec.name} is given twice`);
    flags.set(spec.name, [...seen, value]);
  }
  return { flags, positional };
}

export const flag = (args: ParsedArgs, name: string): string | undefined =>
  args.flags.get(name)?.[0];
export const has = (args: ParsedArgs, name: string): boolean => args.flags.has(name);

/** Usage text: a synopsis, a description and one line per flag. */
export function usage(synopsis: string, description: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? ` ${s.value}` : ''}`;
    const dflt = s.default !== undefined ? ` (default ${s.default})` : '';
    return [names, `${s.help}${dflt}`] as const;
  });
  const width = Math.max(...rows.map(([n]) => n.length));
  const lines = rows.map(([n, h]) => `  ${n.padEnd(width)}  ${h}`);
  return `Usage: ${synopsis}\n\n${description}\n\nFlags:\n${lines.join('\n')}\n`;
}

/** A duration as kubectl and Go write them (720h, 90m) or in days and weeks (30d, 2w). */
export function parseCliDuration(
  text: string,
  parseGo: (t: string) => number | undefined,
): number | undefined {
  const days = /^(\d+)([dw])$/.exec(text);
  if (days) return Number(days[1]) * (days[2] === 'w' ? 7 : 1) * 86_400_000;
  return parseGo(text);
}
