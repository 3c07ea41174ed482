// HTTP endpoints: Prometheus metrics, and /healthz and /readyz probes.
import { createServer, type Server } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { Metrics } from './metrics.ts';

export function parseBindAddress(address: string): { host: string | undefined; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i) || undefined, port: Number(address.slice(i + 1)) };
}

export async function listen(server: Server, address: string): Promise<number> {
  const { host, port } = parseBindAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return typeof bound === 'object' && bound ? bound.port : port;
}

export function metricsServer(metrics: Metrics): Server {
  return createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    let chunks: Generator<string>;
    try {
      chunks = metrics.registry.chunks();
    } catch {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    // piece by piece, as the socket takes them (the whole text at 10,000 certificates is 7 MiB);
    // an error here is the scraper going away mid-response, nothing to answer
    pipeline(Readable.from(chunks, { highWaterMark: 1 }), res, () => {});
  });
}

export function probeServer(ready: () => boolean): Server {
  return createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(200).end('ok');
    else if (req.url === '/readyz')
      res.writeHead(ready() ? 200 : 503).end(ready() ? 'ok' : 'not ready');
    else res.writeHead(404).end();
  });
}
