// hack/testenv.sh stop|start with a stale pid file whose pid now belongs to another process
// (pids are reused): stop must not kill it, start must not take it for the component.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = join(import.meta.dirname, '../../../hack/testenv.sh');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('hack/testenv.sh with a reused pid', () => {
  const started: number[] = [];
  let dir = '';
  afterEach(() => {
    for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** A component `fake` started as `sleep 600`, whose pid file now names `unrelated`. */
  const staleComponent = (argv0 = 'tail') => {
    dir = mkdtempSync(join(tmpdir(), 'testenv-pid-'));
    // `exec -a` names the process as we like: `setsid` is what a component is called for a
    // moment after start_bg, before setsid execs the binary.
    const unrelated = spawn('bash', ['-c', `exec -a ${argv0} tail -f /dev/null`], {
      stdio: 'ignore',
    });
    started.push(unrelated.pid!);
    writeFileSync(join(dir, 'fake.cmd'), 'sleep 600 ');
    writeFileSync(join(dir, 'fake.pid'), `${unrelated.pid}\n`);
    return { unrelated: unrelated.pid!, env: { ...process.env, TESTENV_DIR: dir } };
  };

  it('stop leaves the unrelated process alone', async () => {
    const { unrelated, env } = staleComponent();
    await run('bash', [script, 'stop', 'fake'], { env });
    expect(alive(unrelated)).toBe(true);
  });

  it('stop leaves alone an unrelated process that is a setsid of something else', async () => {
    const { unrelated, env } = staleComponent('setsid');
    await new Promise((r) => setTimeout(r, 200)); // bash execs tail under the name setsid
    expect(readFileSync(`/proc/${unrelated}/cmdline`, 'utf8').split('\0')[0]).toBe('setsid');
    await run('bash', [script, 'stop', 'fake'], { env });
    expect(alive(unrelated)).toBe(true);
  });

  it('start starts the component instead of taking the unrelated process for it', async () => {
    const { unrelated, env } = staleComponent();
    await run('bash', [script, 'start', 'fake'], { env });
    const pid = Number(readFileSync(join(dir, 'fake.pid'), 'utf8').trim());
    started.push(pid);
    expect(pid).not.toBe(unrelated);
    // setsid execs the command a moment after the pid is written.
    const argv0 = () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    for (let i = 0; i < 100 && argv0() !== 'sleep'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(argv0()).toBe('sleep');
  });
});
