// `b2b` from a production install: a copy of the repository, `npm ci --omit=dev`, Node 24 on
// PATH and nothing else. Runs the exact commands of .pre-commit-hooks.yaml and of the GitHub
// Actions example in docs/cli.md over examples/, the package installed as a dependency (under
// node_modules, where Node does not strip types by itself), and prints inspect's start-up time.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../..', import.meta.url).pathname;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('b2b from a production install', () => {
  let dir: string;
  let copy: string;
  let binDir: string;
  let env: NodeJS.ProcessEnv;

  const bash = (script: string, cwd = copy): Run => {
    const r = spawnSync('bash', ['-c', script], { cwd, env, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'b2b-install-'));
    copy = join(dir, 'b2b-certificate-operator');
    const files = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    )
      .split('\0')
      .filter(Boolean);
    for (const file of files) {
      try {
        cpSync(join(root, file), join(copy, file), { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted, not committed
      }
    }
    // Only Node 24 (the pinned one the tests run with) and the system's tools on PATH; `b2b` as
    // npm links a package's bin.
    binDir = join(dir, 'bin');
    mkdirSync(binDir);
    symlinkSync(join(copy, 'bin/b2b.js'), join(binDir, 'b2b'));
    const path = (process.env.PATH ?? '').split(':').filter((p) => !p.includes('node_modules'));
    env = { ...process.env, PATH: [binDir, dirname(process.execPath), ...path].join(':') };
    delete env.NODE_OPTIONS;
    const install = bash('npm ci --omit=dev --no-audit --no-fund');
    if (install.status !== 0) throw new Error(`npm ci --omit=dev failed: ${install.stderr}`);
  }, 600_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has no dev dependencies, and runs', () => {
    expect(bash('ls node_modules/.bin').stdout).not.toMatch(/^(vitest|tsc|node)$/m);
    expect(bash('b2b --version')).toMatchObject({ status: 0, stdout: 'b2b 0.1.0\n' });
    expect(bash('node src/main.ts --version')).toMatchObject({
      status: 0,
      stdout: 'b2b-certificate-operator 0.1.0\n',
    });
  });

  it('starts `b2b inspect` quickly (the figure is printed, not asserted)', () => {
    const runs = [1, 2, 3].map(() => {
      const start = process.hrtime.bigint();
      const r = bash('b2b inspect examples/20-public-inline.yaml');
      expect(r.status).toBe(0);
      return Number(process.hrtime.bigint() - start) / 1e6;
    });
    console.log(
      `b2b inspect from a production install: ${runs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (bash + node start + inspect)`,
    );
  });

  it('runs the pre-commit hook entry over examples/', () => {
    const [hook] = parse(readFileSync(join(copy, '.pre-commit-hooks.yaml'), 'utf8')) as {
      entry: string;
      files: string;
    }[];
    // pre-commit appends the staged files that match `files`.
    const files = bash('ls examples')
      .stdout.split('\n')
      .filter((f) => new RegExp(hook!.files).test(f));
    const all = bash(`${hook!.entry} ${files.map((f) => `examples/${f}`).join(' ')}`);
    expect(all.status).toBe(1);
    expect(all.stdout).toMatch(/FAIL\s+Certificate b2b\/contoso-signing\s+MissingDataEncipherment/);
    const good = files.filter((f) => !f.startsWith('50-')).map((f) => `examples/${f}`);
    expect(bash(`${hook!.entry} ${good.join(' ')}`)).toMatchObject({ status: 0 });
  });

  // Its install step runs `npm ci` from the registry again: minutes on a loaded 2-core machine.
  it('runs the GitHub Actions example of docs/cli.md over examples/', () => {
    const doc = readFileSync(join(copy, 'docs/cli.md'), 'utf8');
    const workflow = parse(/## GitHub Actions[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)![1]!) as {
      jobs: { validate: { steps: { run?: string }[] } };
    };
    const runs = workflow.jobs.validate.steps.flatMap((s) => (s.run ? [s.run] : []));
    expect(runs).toHaveLength(2);
    // The install step was done in beforeAll with the same command; run it again as written.
    expect(bash(runs[0]!)).toMatchObject({ status: 0 });
    const validate = bash(runs[1]!);
    expect(validate.status).toBe(1); // the failing example fails the step
    const sarif = JSON.parse(readFileSync(join(copy, 'b2b.sarif'), 'utf8')) as {
      runs: {
        results: {
          ruleId: string;
          locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
        }[];
      }[];
    };
    expect(
      sarif.runs[0]!.results.map((r) => [
        r.ruleId,
        r.locations[0]!.physicalLocation.artifactLocation.uri,
      ]),
    ).toEqual([['MissingDataEncipherment', 'examples/50-failing-private.yaml']]);
  }, 300_000);

  it('runs as a dependency, from under node_modules', () => {
    const project = join(dir, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    cpSync(join(copy, 'examples'), join(project, 'examples'), { recursive: true });
    // A real copy, not a symlink: Node would run a symlinked package from its real path.
    cpSync(copy, join(project, 'node_modules', 'b2b-certificate-operator'), { recursive: true });
    const r = bash(
      'node node_modules/b2b-certificate-operator/bin/b2b.js validate -f examples/40-public-configmap.yaml',
      project,
    );
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ status: 0 });
    expect(r.stdout).toMatch(/OK\s+Certificate b2b\/woodgrove-x12/);
  });
});
