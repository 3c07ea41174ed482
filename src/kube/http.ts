// HTTP/1.1 requests through node:https keep-alive agents (one agent: one connection pool). Node's
// own http stack instead of the undici package, whose module graph costs ~15 MiB of memory.
import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions } from 'node:https';

export interface HttpResponse {
  status: number;
  ok: boolean;
  /** The body as a stream (watches); read it once, or use text(). */
  body: IncomingMessage;
  text(): Promise<string>;
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  agent: Agent | undefined;
  signal?: AbortSignal | undefined;
}

function readAll(body: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: Buffer) => chunks.push(c));
    body.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    body.once('error', reject);
    // Destroyed before the end (an abort, a reset): 'close' without 'end'.
    body.once('close', () => {
      if (!body.complete) reject(new Error('the response ended early'));
    });
  });
}

/** Sends one request; resolves with the response head, the body still to be read. */
export function send(url: URL, init: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const req = request(url, {
      method: init.method,
      headers: {
        ...init.headers,
        ...(init.body === undefined ? {} : { 'content-length': Buffer.byteLength(init.body) }),
      },
      agent: init.agent,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    req.once('error', reject);
    req.once('response', (body) => {
      const status = body.statusCode ?? 0;
      // After the head, errors surface through the body's readers.
      req.off('error', reject);
      req.on('error', () => undefined);
      resolve({ status, ok: status >= 200 && status < 300, body, text: () => readAll(body) });
    });
    req.end(init.body);
  });
}

/** A connection pool with this TLS material; kept-alive connections probe like client-go's. */
export function tlsAgent(tls: Pick<AgentOptions, 'ca' | 'cert' | 'key' | 'servername'>): Agent {
  return new HttpsAgent({ ...tls, keepAlive: true, keepAliveMsecs: 30_000 });
}

/** A pool no new request uses: idle connections close now, busy ones when their response ends. */
export function retire(agent: Agent): void {
  // Node's agent reads `keepAlive` when a socket is freed: false closes it.
  (agent as Agent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets))
    for (const s of sockets ?? []) s.destroy();
}
