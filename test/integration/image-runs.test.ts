// The image really runs: production dependencies only, installed as the Dockerfile installs
// them (`npm ci --omit=dev`), with dist/ (the compiled JavaScript of `npm run build`, as the
// Dockerfile's build stage makes it) beside them in a temporary copy, and the operator started
// from dist/main.js against the test control plane until it reports ready. A runtime import of
// a dev dependency, or a module the compiled output cannot find, fails here. The install is
// cached per package.json + package-lock.json (the result of `npm ci` depends on nothing
// else); dist/ is built fresh every run.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, createNamespace, eventually, testenv } from '../support/cluster.ts';
import { repoRoot, run, succeeded } from '../support/kubectl.ts';

const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** node_modules of `npm ci --omit=dev` for this lockfile, installed once and cached. */
async function productionNodeModules(): Promise<string> {
  const manifests = ['package.json', 'package-lock.json'].map((f) =>
    readFileSync(join(repoRoot, f)),
  );
  const key = createHash('sha256').update(Buffer.concat(manifests)).digest('hex').slice(0, 16);
  const cacheRoot =
    process.env.B2B_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'b2b-operator');
  const dest = join(cacheRoot, 'prod-node-modules', key);
  if (existsSync(join(dest, 'node_modules'))) return join(dest, 'node_modules');
  const staging = mkdtempSync(join(tmpdir(), 'b2b-npm-ci-'));
  for (const f of ['package.json', 'package-lock.json'])
    cpSync(join(repoRoot, f), join(staging, f));
  succeeded(
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
      cwd: staging,
      timeoutMs: INSTALL_TIMEOUT_MS,
    }),
  );
  rmSync(dest, { recursive: true, force: true });
  cpSync(staging, dest, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  return join(dest, 'node_modules');
}

describe('the image contents (production dependencies + the compiled dist/)', () => {
  let app: string;
  let nodeModules: string;
  beforeAll(async () => {
    nodeModules = await productionNodeModules();
    app = mkdtempSync(join(tmpdir(), 'b2b-image-'));
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, f), join(app, f));
    symlinkSync(nodeModules, join(app, 'node_modules'), 'dir');
    // The build stage: npm run build (tsc -p tsconfig.build.json), here into the copy's dist/.
    succeeded(
      await run(
        join(repoRoot, 'node_modules/.bin/tsc'),
        ['-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(app, 'dist')],
        { cwd: repoRoot, timeoutMs: 120_000 },
      ),
    );
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('holds no dev dependency', () => {
    expect(existsSync(join(nodeModules, 'yaml'))).toBe(true);
    for (const dev of ['vitest', 'typescript', 'eslint', 'prettier'])
      expect(existsSync(join(nodeModules, dev)), dev).toBe(false);
  });

  it('starts the operator, which reports ready and stops cleanly on SIGTERM', async () => {
    const ns = await createNamespace(adminClient(), 'image');
    const child = spawn(
      process.execPath,
      [
        'dist/main.js',
        `--kubeconfig=${testenv().operatorKubeconfig}`,
        `--watch-namespace=${ns}`,
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
      ],
      // As in the image and the Deployment: production mode, two malloc arenas, a heap cap,
      // nothing else from the test's env.
      {
        cwd: app,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          MALLOC_ARENA_MAX: '2',
          NODE_OPTIONS: '--max-old-space-size=256 --max-semi-space-size=1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    let ready = false;
    // A failed import ends the process at once: report that instead of waiting for a timeout.
    const endedEarly = exited.then((code) =>
      ready
        ? undefined
        : Promise.reject(new Error(`the operator exited (${code}) before it was ready`)),
    );
    const becomeReady = async () => {
      const probePort = await eventually(
        () => Promise.resolve(/"probePort":(\d+)/.exec(output)?.[1]),
        "the operator's start-up log line",
        60_000,
      );
      // Generous: a shared machine, and /readyz waits for caches to sync.
      await eventually(
        async () => {
          const r = await fetch(`http://127.0.0.1:${probePort}/readyz`);
          return r.status === 200 ? true : undefined;
        },
        '/readyz to answer 200',
        90_000,
        250,
      );
    };
    try {
      await Promise.race([becomeReady(), endedEarly]);
      ready = true;
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\noperator output:\n${output.slice(-4000)}`);
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
