// An HTTPS proxy in front of the real API server that records every request and HOLDS the
// requests a predicate picks:
// they are neither forwarded nor answered until release() (or until the client gives up);
// everything else, watch streams included, passes through. TLS is terminated with the tests'
// own CA and opened again to the API server as the kubeconfig's user (its client
// certificate), so a test can keep work in flight for as long as it needs, not by latency.
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { listenHttps, testCa } from './test-ca.ts';

export interface HeldRequest {
  method: string;
  path: string;
}

/** The values of a kubeconfig written by hack/testenv.sh (files, not inline data). */
function kubeconfigFields(text: string) {
  const field = (name: string) => {
    const m = new RegExp(`${name}: (\\S+)`).exec(text);
    if (!m) throw new Error(`kubeconfig without ${name}`);
    return m[1]!;
  };
  return {
    server: new URL(field('server')),
    ca: readFileSync(field('certificate-authority')),
    cert: readFileSync(field('client-certificate')),
    key: readFileSync(field('client-key')),
  };
}

export class HoldingApiProxy {
  /** Picks the requests to hold; the others pass through. */
  hold: (r: HeldRequest) => boolean = () => false;
  /** Requests being held now. */
  readonly held: HeldRequest[] = [];
  /** Every request that came through, with when (an audit of what a process did). */
  readonly seen: (HeldRequest & { at: number })[] = [];
  private readonly tls = testCa('api-hold-proxy');
  private readonly upstream: ReturnType<typeof kubeconfigFields>;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private release: () => void = () => {};
  private released = new Promise<void>((resolve) => (this.release = resolve));
  port = 0;

  private readonly kubeconfigText: string;

  constructor(kubeconfigText: string) {
    this.kubeconfigText = kubeconfigText;
    this.upstream = kubeconfigFields(kubeconfigText);
  }

  async start(): Promise<void> {
    const { server, port } = await listenHttps(
      this.tls,
      (req, res) => void this.handle(req, res),
      this.sockets,
    );
    this.server = server;
    this.port = port;
  }

  /** The kubeconfig's text, pointed at this proxy and trusting its CA. */
  kubeconfig(dir: string): string {
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      this.kubeconfigText
        .replace(/server: \S+/, `server: https://127.0.0.1:${this.port}`)
        .replace(/certificate-authority: \S+/, `certificate-authority: ${this.tls.caFile}`),
    );
    return file;
  }

  /** Lets every held request (and those that come later) through. */
  releaseAll(): void {
    this.hold = () => false;
    this.release();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const seen = { method: req.method ?? 'GET', path: req.url ?? '/' };
    this.seen.push({ ...seen, at: Date.now() });
    if (this.hold(seen)) {
      this.held.push(seen);
      const gaveUp = new Promise<void>((resolve) => res.on('close', resolve));
      await Promise.race([this.released, gaveUp]);
      this.held.splice(this.held.indexOf(seen), 1);
      if (res.destroyed || res.writableEnded) return;
    }
    const upstream = request(
      {
        host: this.upstream.server.hostname,
        port: this.upstream.server.port,
        method: seen.method,
        path: seen.path,
        headers: { ...req.headers, host: this.upstream.server.host },
        ca: this.upstream.ca,
        cert: this.upstream.cert,
        key: this.upstream.key,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
