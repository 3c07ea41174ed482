// A thin JSON REST client for the Kubernetes API. The connection and its credentials come from
// credentials.ts (kubeconfig files, in-cluster service accounts; exec plugins through
// @kubernetes/client-node); requests and watch streams are plain HTTP/1.1 through node:https, so
// content types, timeouts and request counting are explicit.
import type { Agent, IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import {
  connectionFromText,
  loadConnection,
  readCredentials,
  type LoadedConnection,
} from './credentials.ts';
import { retire, send } from './http.ts';

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const SecretType: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  kind: 'Secret',
};
export const ConfigMapType: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
};
export const NamespaceType: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
};
export const EventType: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
};
export const LeaseType: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
};

/**
 * A name as one path segment. Names come from users' specs, and a URL resolves '.' and '..'
 * away: 'secrets/..' would address the namespace, 'secrets/.' every Secret in it.
 */
function segment(name: string): string {
  if (name === '.' || name === '..') throw new Error(`"${name}" is not a valid object name`);
  return encodeURIComponent(name);
}

export function resourcePath(
  type: ResourceType,
  where: { namespace?: string | undefined; name?: string | undefined; subresource?: string } = {},
): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const ns = where.namespace ? `/namespaces/${segment(where.namespace)}` : '';
  const name = where.name ? `/${segment(where.name)}` : '';
  const sub = where.subresource ? `/${where.subresource}` : '';
  return `${base}${ns}/${type.plural}${name}${sub}`;
}

/** The API server's Status body on errors. */
export interface ApiStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;
  constructor(status: number, body: ApiStatus, what: string) {
    super(`${what}: ${status} ${body.reason ?? ''}: ${body.message ?? 'no message'}`);
    this.status = status;
    this.reason = body.reason;
  }
}

/**
 * An error response's Status; some answers are plain text (a group the API server does not
 * serve, i.e. a CRD not installed, is "404 page not found"), kept as the message.
 */
function errorBody(text: string): ApiStatus {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // not JSON: the text itself says what is wrong
  }
  return { message: text.trim().slice(0, 200) || 'no message' };
}

export const isNotFound = (err: unknown): boolean =>
  err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown): boolean =>
  err instanceof KubeApiError && err.status === 409;
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.status === 410;

export type PatchType = 'merge' | 'json' | 'apply';
const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * Bounds the requests of one view of a client: every request also ends when `signal()`
 * aborts, and none is sent once `check()` throws (e.g. leadership has lapsed).
 */
export interface RequestFence {
  signal(): AbortSignal | undefined;
  check?(): void;
}

interface Auth {
  headers: Record<string, string>;
  agent: Agent;
  tls: string;
  at: number;
  refused: (() => void) | undefined;
}

interface Session {
  listeners: ((r: RequestRecord) => void)[];
  auth: Auth | undefined;
  /** A read of the credentials under way: concurrent requests wait for the same one. */
  reading?: Promise<Auth> | undefined;
}

const sameAuth = (a: Auth, b: Auth) =>
  a.tls === b.tls && JSON.stringify(a.headers) === JSON.stringify(b.headers);

/** How often headers (rotating tokens) and TLS files (rotated client certificates) are reread. */
const AUTH_REFRESH_MS = 10_000;

export class KubeClient {
  /** The API server's URL, without a trailing slash. */
  readonly server: string;
  /** The kubeconfig context's namespace, or the pod's; undefined when neither says. */
  readonly namespace: string | undefined;
  private readonly loaded: LoadedConnection;
  private readonly session: Session;
  private readonly fence: RequestFence | undefined;

  constructor(loaded: LoadedConnection, session?: Session, fence?: RequestFence) {
    this.loaded = loaded;
    this.server = loaded.connection.server;
    this.namespace = loaded.connection.namespace;
    this.session = session ?? { listeners: [], auth: undefined };
    this.fence = fence;
  }

  /** From a kubeconfig file, else $KUBECONFIG, ~/.kube/config, or the pod's service account. */
  static load(kubeconfigPath?: string): KubeClient {
    return new KubeClient(loadConnection(kubeconfigPath));
  }

  /** From a kubeconfig's text; relative file names are taken from `dir`. */
  static fromKubeconfig(text: string, dir?: string): KubeClient {
    return new KubeClient(connectionFromText(text, dir));
  }

  /** The same client (connections, listeners), with its requests bounded by `fence`. */
  fenced(fence: RequestFence): KubeClient {
    return new KubeClient(this.loaded, this.session, fence);
  }

  /** Observes every request (metrics, tests that count writes). */
  onRequest(listener: (r: RequestRecord) => void): void {
    this.session.listeners.push(listener);
  }

  /**
   * Sends the request. A 401 means the credentials were refused (a token expired or revoked
   * before the time it stated, a rotated certificate): they are read anew (an exec plugin
   * runs again), and when that gave different ones the request is sent once more with them.
   * The API server authenticates before anything else, so the refused request did nothing.
   */
  private async open(method: string, path: string, options: RequestOptions) {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const auth = await this.authenticate();
    const response = await this.sendWith(auth, method, url, path, options);
    if (response.status !== 401) return response;
    const renewed = await this.reauthenticate(auth);
    if (sameAuth(renewed, auth)) return response;
    response.body.resume(); // the 401's body is not read: let its connection be reused
    return this.sendWith(renewed, method, url, path, options);
  }

  private async sendWith(
    auth: Auth,
    method: string,
    url: URL,
    path: string,
    options: RequestOptions,
  ) {
    const headers: Record<string, string> = {
      ...auth.headers,
      accept: options.accept ?? 'application/json',
      // fetch would ask for gzip, and the API server compresses every response over 128 KB (a
      // list of thousands of objects): CPU on both sides for bytes a cluster network carries
      // at once.
      'accept-encoding': 'identity',
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    const signals = [options.signal, this.fence?.signal()].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    // Last moment before the request leaves: nothing is sent once the fence closed.
    for (const s of signals) s.throwIfAborted();
    this.fence?.check?.();
    const response = await send(url, {
      method,
      headers,
      body,
      agent: auth.agent,
      signals,
      timeoutMs: options.timeoutMs,
    });
    for (const l of this.session.listeners) l({ method, path, status: response.status });
    return response;
  }

  /**
   * After a 401 with `refused`: the credentials read anew. Of the requests refused with the
   * same credentials only the first has them read again; the others wait for that read.
   */
  private reauthenticate(refused: Auth): Promise<Auth> {
    if (this.session.auth === refused && refused.at !== -Infinity) {
      refused.refused?.();
      refused.at = -Infinity;
    }
    return this.authenticate();
  }

  /**
   * Auth headers and the connection pool. We keep one pool and refresh the headers (rotating
   * bearer tokens) every few seconds. The pool is replaced only when the TLS material changed
   * (a rotated client certificate) or after a 401; the old one closes once its requests are
   * done.
   */
  private authenticate(): Promise<Auth> {
    const session = this.session;
    if (session.auth && Date.now() - session.auth.at < AUTH_REFRESH_MS)
      return Promise.resolve(session.auth);
    session.reading ??= this.readAuth().finally(() => (session.reading = undefined));
    return session.reading;
  }

  private async readAuth(): Promise<Auth> {
    const session = this.session;
    const credentials = await readCredentials(this.loaded);
    const previous = session.auth;
    const renew = !previous || previous.tls !== credentials.tls || previous.at === -Infinity;
    const agent = renew ? credentials.agent() : previous.agent;
    if (previous && previous.agent !== agent) retire(previous.agent);
    session.auth = {
      headers: credentials.headers,
      agent,
      tls: credentials.tls,
      at: Date.now(),
      refused: credentials.refused?.bind(credentials),
    };
    return session.auth;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.open(method, path, { timeoutMs: 30_000, ...options });
    const text = await response.text();
    if (!response.ok) throw new KubeApiError(response.status, errorBody(text), `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  list<T>(path: string, query: RequestOptions['query'] = {}): Promise<T> {
    return this.request<T>('GET', path, { query, timeoutMs: 120_000 });
  }

  create<T>(path: string, body: unknown, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('POST', path, { body, ...(query ? { query } : {}) });
  }

  patch<T>(
    path: string,
    body: unknown,
    type: PatchType = 'merge',
    query?: RequestOptions['query'],
  ): Promise<T> {
    return this.request<T>('PATCH', path, {
      body,
      contentType: patchContentType[type],
      ...(query ? { query } : {}),
    });
  }

  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, body === undefined ? {} : { body });
  }

  /**
   * Streams watch events until the server closes the stream ('closed'), `signal` aborts
   * ('aborted'), or no byte arrives for `idleTimeoutMs`, a half-open connection ('idle').
   * Errors, including an ERROR event such as 410 Gone, reject.
   */
  async watch<T>(
    path: string,
    query: RequestOptions['query'],
    onEvent: (event: WatchEvent<T>) => void,
    options: { signal?: AbortSignal; idleTimeoutMs: number; accept?: string },
  ): Promise<'closed' | 'aborted' | 'idle'> {
    // This watch's own request: aborted when idle, when the caller aborts, and in `finally`, so
    // a stream we stop reading is closed and its later errors cannot go unhandled.
    const request = new AbortController();
    let idled = false;
    const onIdle = () => {
      idled = true;
      request.abort(new Error('watch idle timeout'));
    };
    let timer = setTimeout(onIdle, options.idleTimeoutMs);
    const resetTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(onIdle, options.idleTimeoutMs);
    };
    const onAbort = () => request.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let stream: IncomingMessage | undefined;
    try {
      options.signal?.throwIfAborted();
      const response = await this.open('GET', path, {
        query: { ...query, watch: true },
        signal: request.signal,
        ...(options.accept ? { accept: options.accept } : {}),
      });
      if (!response.ok) {
        throw new KubeApiError(response.status, errorBody(await response.text()), `WATCH ${path}`);
      }
      stream = response.body;
      stream.on('data', resetTimer);
      stream.on('error', () => undefined); // surfaced through the line reader below
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line) continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') {
          const status = event.object as ApiStatus;
          throw new KubeApiError(status.code ?? 500, status, `WATCH ${path}`);
        }
        onEvent(event);
      }
      return 'closed';
    } catch (err) {
      // Our own idle timeout or the caller's abort end the watch quietly; the caller re-watches.
      if (idled) return 'idle';
      if (options.signal?.aborted) return 'aborted';
      throw err;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      request.abort();
      stream?.destroy();
    }
  }
}
