// `node src/main.ts --help` lists every flag of config.ts with its environment variable and
// default; `--version` prints the package version.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { envName, flags } from '../../../src/operator/config.ts';

const root = new URL('../../..', import.meta.url).pathname;
const operator = (arg: string) =>
  execFileSync(process.execPath, ['src/main.ts', arg], { cwd: root, encoding: 'utf8' });

describe('operator --help and --version', () => {
  it('prints every flag with its environment variable and default', () => {
    const help = operator('--help');
    for (const [name, dflt] of Object.entries(flags)) {
      expect(help).toContain(`  --${name}\n`);
      expect(help).toContain(`env ${envName(name)}, default ${dflt === '' ? '""' : dflt}`);
    }
    expect(help).toContain('B2B_ALLOWED_VAULT_HOSTS');
  });

  it('prints the version', () => {
    expect(operator('--version')).toBe('b2b-certificate-operator 0.1.0\n');
  });
});
