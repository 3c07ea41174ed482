// JSON-lines logs. Callers pass names, reasons and messages, never certificate bodies, keys
// or tokens; the logger also drops fields whose names suggest secrets, as a second line.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /key|token|secret|password|pem|certificate$/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  level: Level = 'info',
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Logger {
  const emit = (l: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (order[l] < order[level]) return;
    const safe: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ ...base, ...fields })) {
      safe[k] = SECRET_FIELD.test(k) && k !== 'key' ? '[redacted]' : v;
    }
    write(JSON.stringify({ ts: new Date().toISOString(), level: l, msg, ...safe }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

/** What an error says, for logs and messages (never a stack, never an object dump). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const silentLogger: Logger = createLogger('error', {}, () => {});
