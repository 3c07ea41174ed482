// Where the client's connection comes from (--kubeconfig, $KUBECONFIG, ~/.kube/config, or the
// pod's service account) and the credentials of its requests: headers and the TLS material of
// the connection pool, read again on every refresh so that rotated tokens and client
// certificates are picked up. Users that need an exec plugin or an auth provider are handed to
// @kubernetes/client-node, imported only then.
import type { KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { YAMLException, load as parseYaml } from 'js-yaml';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { Agent, AgentOptions } from 'node:http';
import type { RequestOptions } from 'node:https';
import { createLogger, errorMessage } from '../operator/log.ts';
import { poolAgent } from './http.ts';
import {
  KubeconfigError,
  SERVICE_ACCOUNT_DIR,
  inClusterConnection,
  resolveKubeconfig,
  type KubeConnection,
  type KubeconfigFile,
  type Source,
} from './kubeconfig.ts';

/** Where a connection was read from: client-node reads the same place when it takes over. */
export type KubeconfigOrigin =
  | { kind: 'files'; files: string[] }
  | { kind: 'text'; text: string; dir: string }
  | { kind: 'in-cluster' };

export interface LoadedConnection {
  connection: KubeConnection;
  origin: KubeconfigOrigin;
  /** client-node's KubeConfig, once a delegated user has made a request. */
  clientNode?: Promise<KubeConfig>;
  /** The TLS files as last read: kept when a reread fails (a rotation caught mid-write). */
  tlsFiles?: TlsFiles;
  /** Where a failed reread is reported (default: a warning in the operator's log). */
  warn?: (msg: string, fields: Record<string, unknown>) => void;
}

interface TlsFiles {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** How a kubeconfig's text is named in errors: its file, or "the kubeconfig" for a text. */
const TEXT = 'the kubeconfig';

/**
 * Kubeconfigs are YAML (or JSON, which is YAML); js-yaml's graph is ~2 MiB, yaml's ~13. A
 * syntax error names the file and the line only: js-yaml's message quotes the lines around
 * the error, and those hold tokens and keys.
 */
function parseKubeconfig(text: string, dir: string, name: string): KubeconfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const mark = err instanceof YAMLException ? err.mark : undefined;
    const at = mark ? ` (line ${mark.line + 1}, column ${mark.column + 1})` : '';
    throw new KubeconfigError(`${name} is not valid YAML${at}`);
  }
  if (typeof doc !== 'object' || doc === null)
    throw new KubeconfigError(`${name} is not a kubeconfig`);
  return { doc, dir };
}

const readKubeconfig = (file: string): KubeconfigFile =>
  parseKubeconfig(readFileSync(file, 'utf8'), dirname(resolve(file)), file);

/** From a kubeconfig's text (tests, tools); relative paths are taken from `dir`. */
export function connectionFromText(text: string, dir = process.cwd()): LoadedConnection {
  return {
    connection: resolveKubeconfig([parseKubeconfig(text, dir, TEXT)]),
    origin: { kind: 'text', text, dir },
  };
}

function readNamespace(): string | undefined {
  try {
    return readFileSync(join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `path`, else $KUBECONFIG (a list), else ~/.kube/config, else the pod's service account. */
export function loadConnection(
  path?: string,
  env: Record<string, string | undefined> = process.env,
): LoadedConnection {
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  const files = path
    ? [path]
    : listed.length
      ? listed.filter((f) => existsSync(f))
      : existsSync(home)
        ? [home]
        : [];
  if (files.length) {
    return {
      connection: resolveKubeconfig(files.map(readKubeconfig)),
      origin: { kind: 'files', files },
    };
  }
  if (listed.length)
    throw new KubeconfigError(`none of KUBECONFIG's files exists: ${listed.join(delimiter)}`);
  if (!existsSync(join(SERVICE_ACCOUNT_DIR, 'token')))
    throw new KubeconfigError(
      'no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not in a pod',
    );
  return { connection: inClusterConnection(env, readNamespace()), origin: { kind: 'in-cluster' } };
}

export interface Credentials {
  headers: Record<string, string>;
  /** A digest of the TLS material: when it changes, connections must be made anew. */
  tls: string;
  /** A connection pool for this TLS material. */
  agent(): Agent;
  /**
   * The API server refused these credentials (401): the next read asks anew instead of using
   * what client-node has cached (an exec plugin's token is kept until the time it states).
   */
  refused?(): void;
}

const read = (s: Source | undefined): Buffer | undefined =>
  s === undefined ? undefined : 'data' in s ? s.data : readFileSync(s.file);

const defaultLog = createLogger('warn', { component: 'kube-client' });

/** Configured TLS material, or why it cannot be used: a file unread, or read empty. */
function readTls(what: string, s: Source): Buffer {
  const name = 'file' in s ? `${what} ${s.file}` : `${what}-data`;
  let bytes: Buffer;
  try {
    bytes = read(s)!;
  } catch (err) {
    throw new KubeconfigError(`cannot read the kubeconfig's ${name}: ${errorMessage(err)}`);
  }
  // Empty (a rotation caught mid-write) is as bad as missing: without the CA Node would trust
  // its default roots, without the client certificate requests would go anonymously.
  if (!bytes.toString('utf8').trim())
    throw new KubeconfigError(`the kubeconfig's ${name} is empty`);
  return bytes;
}

/**
 * The CA and client certificate. A file that cannot be read, or is empty, at the first read is
 * an error: without the configured CA Node would trust its default roots, without the client
 * certificate requests would go anonymously. Later rereads keep the last material read.
 */
function readTlsFiles(loaded: LoadedConnection): TlsFiles {
  const c = loaded.connection;
  const one = (what: string, s: Source | undefined, last: Buffer | undefined): Buffer => {
    if (s === undefined) return Buffer.alloc(0);
    try {
      return readTls(what, s);
    } catch (err) {
      if (last === undefined) throw err;
      const path = 'file' in s ? s.file : '';
      (loaded.warn ?? defaultLog.warn)(`${errorMessage(err)}; keeping the one read before`, {
        path,
      });
      return last;
    }
  };
  const last = loaded.tlsFiles;
  loaded.tlsFiles = {
    ca: one('certificate-authority', c.ca, last?.ca),
    cert: one('client-certificate', c.cert, last?.cert),
    key: one('client-key', c.key, last?.key),
  };
  return loaded.tlsFiles;
}

const digest = (...parts: (Buffer | string)[]): string => {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p).update('\0');
  return hash.digest('hex');
};

function ownCredentials(loaded: LoadedConnection): Credentials {
  const c = loaded.connection;
  const headers: Record<string, string> = {};
  const token = read(c.token)?.toString('utf8').trim();
  if (token) headers.authorization = `Bearer ${token}`;
  else if (c.basic)
    headers.authorization = `Basic ${Buffer.from(`${c.basic.username}:${c.basic.password}`).toString('base64')}`;
  if (c.impersonate) headers['impersonate-user'] = c.impersonate;
  const { ca, cert, key } = readTlsFiles(loaded);
  return {
    headers,
    tls: digest(ca, cert, key, c.tlsServerName ?? ''),
    agent: () =>
      poolAgent(c.server, {
        ...(ca.length ? { ca } : {}),
        ...(cert.length ? { cert } : {}),
        ...(key.length ? { key } : {}),
        ...(c.tlsServerName ? { servername: c.tlsServerName } : {}),
      }),
  };
}

async function clientNodeConfig(loaded: LoadedConnection): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { origin, connection } = loaded;
  const config = new KubeConfig();
  if (origin.kind === 'in-cluster') {
    config.loadFromCluster();
    return config;
  }
  /** The files may have changed since we read them: our parser first, for its clean errors. */
  const load = (into: KubeConfig, text: string, dir: string, name: string) => {
    parseKubeconfig(text, dir, name);
    // loadFromString leaves relative file names relative to the process's directory.
    into.loadFromString(text);
    into.makePathsAbsolute(dir);
  };
  if (origin.kind === 'text') {
    load(config, origin.text, origin.dir, TEXT);
  } else {
    const [first, ...rest] = origin.files.map((file) => ({
      text: readFileSync(file, 'utf8'),
      dir: dirname(resolve(file)),
      file,
    }));
    load(config, first!.text, first!.dir, first!.file);
    // kubectl's merge: the first file that names a cluster, user or context wins (client-node's
    // mergeConfig throws on a name seen before).
    for (const { text, dir, file } of rest) {
      const more = new KubeConfig();
      load(more, text, dir, file);
      for (const c of more.getClusters()) if (!config.getCluster(c.name)) config.addCluster(c);
      for (const u of more.getUsers()) if (!config.getUser(u.name)) config.addUser(u);
      for (const x of more.getContexts())
        if (!config.getContextObject(x.name)) config.addContext(x);
    }
  }
  // The context we resolved, which a later file of a KUBECONFIG list may have named.
  if (connection.context) config.setCurrentContext(connection.context);
  return config;
}

/** client-node's KubeConfig, made once; one that failed (a file caught mid-write) is not kept. */
function clientNodeOf(loaded: LoadedConnection): Promise<KubeConfig> {
  if (loaded.clientNode) return loaded.clientNode;
  const made = clientNodeConfig(loaded);
  loaded.clientNode = made;
  made.catch(() => {
    if (loaded.clientNode === made) delete loaded.clientNode;
  });
  return made;
}

async function delegatedCredentials(loaded: LoadedConnection): Promise<Credentials> {
  const clientNode = clientNodeOf(loaded);
  const config = await clientNode;
  const opts: RequestOptions = {};
  await config.applyToHTTPSOptions(opts);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {}))
    if (v !== undefined) headers[k.toLowerCase()] = String(v);
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  const bytes = (v: unknown) =>
    Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : '');
  const proxied = Boolean(config.getCurrentCluster()?.proxyUrl);
  // client-node builds its proxy agents without keep-alive: a new tunnel for every request.
  // Node's agent reads these when a request starts and when its socket is freed.
  if (proxied && opts.agent)
    Object.assign(opts.agent, { keepAlive: true, keepAliveMsecs: 30_000 } satisfies AgentOptions);
  return {
    headers,
    tls: digest(bytes(opts.ca), bytes(opts.cert), bytes(opts.key)),
    // A fresh KubeConfig has fresh authenticators: the exec plugin runs again, the auth
    // provider reads the kubeconfig again. Only once for all the requests these were used for.
    refused: () => {
      if (loaded.clientNode === clientNode) delete loaded.clientNode;
    },
    // client-node's own agent only for proxies; otherwise our keep-alive pool with its TLS.
    agent: () =>
      proxied && opts.agent
        ? (opts.agent as Agent)
        : poolAgent(loaded.connection.server, {
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            ...(opts.rejectUnauthorized === undefined
              ? {}
              : { rejectUnauthorized: opts.rejectUnauthorized }),
            ...(opts.servername ? { servername: opts.servername } : {}),
          }),
  };
}

/** The credentials for the next requests: our own, or client-node's for delegated users. */
export function readCredentials(loaded: LoadedConnection): Promise<Credentials> {
  return loaded.connection.delegate
    ? delegatedCredentials(loaded)
    : Promise.resolve().then(() => ownCredentials(loaded));
}
