// A throw-away CA and a serving certificate for the tests' own HTTPS servers (the ARM test
// server): trusted through NODE_EXTRA_CA_CERTS, never by turning verification off.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A CA and a serving certificate for localhost and 127.0.0.1, made with openssl. */
export function testCa(label: string): { caFile: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), `b2b-${label}-`));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=b2b ${label} test CA`,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  );
  return {
    caFile: join(dir, 'ca.crt'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
  };
}

/**
 * An HTTPS server on a free loopback port with `tls`'s certificate, tracking its open sockets
 * in `sockets` so that a test can cut every connection at once.
 */
export async function listenHttps(
  tls: { key: string; cert: string },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  sockets: Set<Socket>,
): Promise<{ server: Server; port: number }> {
  const server = createServer({ key: tls.key, cert: tls.cert }, handler);
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}
