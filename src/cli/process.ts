// The process edge of `b2b`: real argv, streams, environment and clock.
import { readFileSync } from 'node:fs';
import { main } from './main.ts';

export async function runFromProcess(): Promise<void> {
  const code = await main({
    argv: process.argv.slice(2),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: () => readFileSync(0),
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  });
  process.exitCode = code;
}
