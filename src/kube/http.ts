// HTTP/1.1 requests through node:https keep-alive agents (one agent: one connection pool). Node's
// own http stack instead of the undici package, whose module graph costs ~15 MiB of memory.
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
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
  /** Any of these aborts the request (the response body too). */
  signals: AbortSignal[];
  timeoutMs?: number | undefined;
}

/**
 * One signal for a request, linked to `signals` by listeners that are removed when the request
 * closes. Not AbortSignal.any: each call leaves a weak reference in a long-lived source (the
 * operator's cancel signal) that is never collected (Node 24.9: ~230 bytes a request), and
 * AbortSignal.timeout keeps its signal, and what listens to it, for the whole timeout.
 */
function requestSignal(signals: AbortSignal[], timeoutMs: number | undefined) {
  const controller = new AbortController();
  const links = signals.map((source) => {
    const abort = () => controller.abort(source.reason);
    source.addEventListener('abort', abort, { once: true });
    return () => source.removeEventListener('abort', abort);
  });
  const timer = timeoutMs
    ? setTimeout(
        () =>
          controller.abort(
            new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
          ),
        timeoutMs,
      ).unref()
    : undefined;
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      for (const unlink of links) unlink();
    },
  };
}

/** As fetch: an aborted request rejects with its signal's reason (a timeout, --wait, ...). */
const reasonOf = (signal: AbortSignal, err: unknown): Error =>
  signal.aborted && signal.reason instanceof Error ? signal.reason : (err as Error);

function readAll(body: IncomingMessage, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, fail) => {
    const reject = (err: unknown) => fail(reasonOf(signal, err));
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
    for (const s of init.signals) s.throwIfAborted();
    const { signal, release } = requestSignal(init.signals, init.timeoutMs);
    const fail = (err: unknown) => reject(reasonOf(signal, err));
    const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
    let req: ReturnType<typeof request>;
    try {
      req = request(url, {
        method: init.method,
        headers: {
          ...init.headers,
          ...(init.body === undefined ? {} : { 'content-length': Buffer.byteLength(init.body) }),
        },
        agent: init.agent,
        signal,
      });
    } catch (err) {
      // Thrown before any 'close' (an agent of the wrong protocol): unlink the signals here.
      release();
      throw err;
    }
    // After the response has been read, or the request failed.
    req.once('close', release);
    req.once('error', fail);
    req.once('response', (body) => {
      const status = body.statusCode ?? 0;
      // After the head, errors surface through the body's readers.
      req.off('error', fail);
      req.on('error', () => undefined);
      resolve({
        status,
        ok: status >= 200 && status < 300,
        body,
        text: () => readAll(body, signal),
      });
    });
    req.end(init.body);
  });
}

const keepAlive = { keepAlive: true, keepAliveMsecs: 30_000 } as const;

/**
 * A connection pool for `server` with this TLS material; kept-alive connections probe like
 * client-go's. An http:// server (kubectl proxy) gets a plain pool: it has no TLS.
 */
export function poolAgent(
  server: string,
  tls: Pick<AgentOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>,
): Agent {
  return server.startsWith('http:')
    ? new Agent(keepAlive)
    : new HttpsAgent({ ...tls, ...keepAlive });
}

/** A pool no new request uses: idle connections close now, busy ones when their response ends. */
export function retire(agent: Agent): void {
  // Node's agent reads `keepAlive` when a socket is freed: false closes it.
  (agent as Agent & { keepAlive: boolean }).keepAlive = false;
  for (const sockets of Object.values(agent.freeSockets))
    for (const s of sockets ?? []) s.destroy();
}
