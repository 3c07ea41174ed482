// hack/lib.sh's start_on_free_ports, with which hack/testenv.sh starts each component: a port
// free when picked may be bound by another control plane before the component binds it. The
// component then fails to bind and is started again on other ports. The component here is a
// small HTTP server that fails to bind as Go servers do (the real ones: test/integration/demo.test.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const lib = join(import.meta.dirname, '../../../hack/lib.sh');

/** Serves 200 on each port; on a port in use, says so as Go does, and exits unless --stay.
 * --fail: exits at once for another reason. */
const component = `
const http = require('node:http');
if (process.argv.includes('--fail')) {
  console.error('invalid configuration: --fail');
  process.exit(1);
}
const ports = process.argv.slice(1).filter((a) => !a.startsWith('--'));
for (const port of ports)
  http.createServer((_, res) => res.end('ok')).listen(Number(port), '127.0.0.1').on('error', (e) => {
    console.error('listen tcp 127.0.0.1:' + port + ': bind: address already in use (' + e.code + ')');
    if (!process.argv.includes('--stay')) process.exit(1);
  });
`;

describe('hack/lib.sh start_on_free_ports', () => {
  let dir = '';
  const servers: Server[] = [];
  afterEach(async () => {
    await run('bash', ['-c', `source ${lib}; DIR=${dir}; stop_pid_file ${dir}/fake.pid`]).catch(
      () => undefined,
    );
    for (const server of servers.splice(0)) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A port another process listens on and answers 200, as another control plane's component. */
  const impostor = async () => {
    const server = createServer((_, res) => res.end('ok'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  };

  /** Starts `fake` (node -e component [--stay] PORT PORT) with start_on_free_ports. */
  const start = (firstPorts: string, extra = '') => {
    dir = mkdtempSync(join(tmpdir(), 'testenv-ports-'));
    const script = `
      source ${lib}
      DIR=${dir}
      launch_fake() {
        local port second
        port="$(pick_port fake)"; second="$(free_port)"
        start_bg fake ${process.execPath} -e "$COMPONENT" -- ${extra} "$port" "$second"
        health_check fake curl -sf "http://127.0.0.1:$port/"
        listens fake "$port" "$second"
      }
      start_on_free_ports fake 20 launch_fake
      echo "ports $(cat "$DIR/fake.ports")"`;
    return run('bash', ['-c', script], {
      env: { ...process.env, COMPONENT: component, TESTENV_FIRST_PORTS: firstPorts },
    });
  };

  it('starts the component again on other ports when its port was taken before it could bind it', async () => {
    const taken = await impostor();
    const { stdout, stderr } = await start(`other=1 fake=${taken}`);
    expect(stderr).toContain('fake could not bind a port another process took first');
    const ports = /ports (\d+) (\d+)/.exec(stdout)!.slice(1).map(Number);
    expect(ports).not.toContain(taken);
    const answer = await fetch(`http://127.0.0.1:${ports[0]}/`);
    expect(await answer.text()).toBe('ok');
    expect(readFileSync(join(dir, 'fake.port-taken-1.log'), 'utf8')).toContain(
      `127.0.0.1:${taken}: bind: address already in use`,
    );
  });

  it('does not take the answer of whoever holds the port for its own health', async () => {
    // The component stays up without the port; the health check alone would pass.
    const taken = await impostor();
    const { stdout, stderr } = await start(`fake=${taken}`, '--stay');
    expect(stderr).toContain('fake could not bind a port another process took first');
    expect(/ports (\d+)/.exec(stdout)![1]).not.toBe(String(taken));
  });

  it('fails with the log, without retrying, when the component fails for another reason', async () => {
    const started = start('', '--fail');
    await expect(started).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /--- last lines of .*fake\.log ---[^]*invalid configuration: --fail[^]*error: fake did not become healthy/,
      ) as unknown,
    });
    const { stderr } = (await started.catch((e: unknown) => e)) as { stderr: string };
    expect(stderr).not.toContain('starting it again');
    expect(readdirSync(dir).filter((f) => f.includes('port-taken'))).toEqual([]);
  });

  it('picks ports below the ephemeral range, where outgoing connections take theirs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'testenv-ports-'));
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    const { stdout } = await run('bash', [
      '-c',
      `source ${lib}; for i in $(seq 200); do free_port; done`,
    ]);
    const ports = stdout.trim().split('\n').map(Number);
    expect(ports).toHaveLength(200);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(low! - 20_000 >= 4000 ? low! : 60_000);
    }
  });
});
