// The commands README.md and docs/cli.md show, on a machine whose `node` is older than the Node
// 24 the project pins in node_modules/.bin: each works, or prints one line saying what to run
// instead and exits non-zero. Runs with the older Nodes found on PATH (`which -a node`).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

/** The `node`s on PATH (outside node_modules) older than 24, by their real path. */
function olderNodes(): string[] {
  const found = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout.split('\n');
  const nodes = new Map<string, string>();
  for (const node of found.filter((n) => n && !n.includes('node_modules'))) {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const real = spawnSync('realpath', [node], { encoding: 'utf8' }).stdout.trim();
    const major = /^v(\d+)\./.exec(version)?.[1];
    if (major && Number(major) < 24 && !nodes.has(real)) nodes.set(real, node);
  }
  return [...nodes.values()];
}

const older = olderNodes();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(older.length === 0)(
  `documented commands on an older Node (${older.join(', ') || 'none found on PATH'})`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'b2b-older-node-'));
    // `b2b` and `kubectl-b2b` on PATH as `npm link` or a global install put them.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(join(root, 'bin/b2b.js'), join(bin, 'b2b'));
    symlinkSync(join(root, 'bin/b2b.js'), join(bin, 'kubectl-b2b'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    for (const node of older) {
      const path = [
        bin,
        dirname(node),
        ...(process.env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules')),
      ].join(':');
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: path };
      delete env.NODE_OPTIONS;
      const sh = (command: string, cwd = root): Run => {
        const r = spawnSync('bash', ['-c', command], { cwd, env, encoding: 'utf8' });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };

      it(`runs on ${node}, the first node on PATH`, () => {
        expect(sh('node --version').stdout).toMatch(/^v(1\d|2[0-3])\./);
      });

      for (const command of [
        'npx b2b --version',
        'b2b --version',
        'kubectl-b2b --version', // what `kubectl b2b --version` runs
        'node bin/b2b.js --version',
      ])
        it(`${command} works`, () => {
          const run = sh(command);
          expect(run.stderr).not.toMatch(/SyntaxError|ERR_|at .*:\d+:\d+/);
          expect(run.stdout).toBe('b2b 0.1.0\n');
          expect(run.status).toBe(0);
        });

      it('b2b validate -f examples/ works: one object fails on purpose', () => {
        const run = sh('npx b2b validate -f examples/');
        expect(run.stdout).toMatch(
          /FAIL +Certificate b2b\/contoso-signing +MissingDataEncipherment/,
        );
        expect(run.stdout).toMatch(/\d+ objects: \d+ ok, 1 failed/);
        expect(run.status).toBe(1);
      });

      for (const command of ['npm start -- --help', 'node_modules/.bin/node src/main.ts --help'])
        it(`${command} prints the operator's flags`, () => {
          const run = sh(command);
          expect(run.stdout).toMatch(/Usage: node src\/main.ts \[flags\]/);
          expect(run.stdout).toContain('B2B_ALLOWED_VAULT_HOSTS');
          expect(run.status).toBe(0);
        });

      it('b2b without the pinned Node says in one line what to run, and exits 2', () => {
        const copy = join(dir, 'checkout');
        cpSync(join(root, 'bin/b2b.js'), join(copy, 'bin/b2b.js'));
        cpSync(join(root, 'package.json'), join(copy, 'package.json'));
        cpSync(join(root, 'package-lock.json'), join(copy, 'package-lock.json'));
        const run = sh('node bin/b2b.js status -A', copy);
        expect(run.stdout).toBe('');
        expect(run.stderr.trimEnd().split('\n')).toEqual([
          `b2b needs Node.js 24 (it runs TypeScript with Node's type stripping) but runs on Node ${sh('node --version').stdout.trim()}: run \`npm ci\` in ${copy} to get the pinned Node in node_modules/.bin, or put Node.js 24 first on PATH`,
        ]);
        expect(run.status).toBe(2);
      });
    }
  },
);

describe('README.md and docs/cli.md', () => {
  it('run TypeScript only with the pinned Node: `node FILE.ts` needs Node 24 first on PATH', () => {
    for (const file of ['README.md', 'docs/cli.md']) {
      const text = readFileSync(join(root, file), 'utf8');
      const bare = [...text.matchAll(/(^|[^/\w.-])node +[\w./-]+\.ts\b/gm)].map((m) => m[0]);
      expect(bare, file).toEqual([]);
    }
  });
});
