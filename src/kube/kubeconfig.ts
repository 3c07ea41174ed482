// Which server, credentials and namespace a kubeconfig (or a pod's service account) names. The
// common cases are resolved here without @kubernetes/client-node, whose module graph alone
// costs about 85 MiB of memory; a user that runs an exec plugin or an auth provider, a proxy,
// or a cluster without TLS checks is left to client-node (see credentials.ts).
import { isIPv6 } from 'node:net';
import { isAbsolute, join } from 'node:path';

/** A PEM, key or token: a file (read again when it may have rotated) or inline bytes. */
export type Source = { file: string } | { data: Buffer };

export interface KubeConnection {
  server: string;
  namespace: string | undefined;
  /** The kubeconfig context resolved; client-node is pointed at the same one. */
  context?: string;
  /** The cluster's CA; absent: Node's roots and NODE_EXTRA_CA_CERTS. */
  ca?: Source;
  tlsServerName?: string;
  cert?: Source;
  key?: Source;
  token?: Source;
  basic?: { username: string; password: string };
  impersonate?: string;
  /** Why @kubernetes/client-node must authenticate this user instead; absent: we do. */
  delegate?: string;
}

type Fields = Record<string, unknown>;
interface Named {
  name?: unknown;
  cluster?: Fields;
  user?: Fields;
  context?: Fields;
}
/** A kubeconfig file as parsed (YAML or JSON), with the directory its relative paths use. */
export interface KubeconfigFile {
  dir: string;
  doc: {
    clusters?: Named[];
    users?: Named[];
    contexts?: Named[];
    'current-context'?: string;
  };
}

export class KubeconfigError extends Error {}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** The entry called `name` in the first file that has one (kubectl's merge: first wins). */
function find(
  files: KubeconfigFile[],
  list: 'clusters' | 'users' | 'contexts',
  name: string,
): { fields: Fields; dir: string } | undefined {
  const key = list === 'clusters' ? 'cluster' : list === 'users' ? 'user' : 'context';
  for (const { doc, dir } of files) {
    const entry = (doc[list] ?? []).find((e) => e?.name === name);
    if (entry) return { fields: entry[key] ?? {}, dir };
  }
  return undefined;
}

function source(fields: Fields, dir: string, file: string, data: string): Source | undefined {
  const path = str(fields[file]);
  if (path) return { file: isAbsolute(path) ? path : join(dir, path) };
  const inline = str(fields[data]);
  return inline ? { data: Buffer.from(inline, 'base64') } : undefined;
}

/** What client-node has to do for this user and cluster, if anything. */
function delegation(user: Fields, cluster: Fields, server: string): string | undefined {
  if (user.exec) return 'the user runs an exec plugin';
  if (user['auth-provider']) return 'the user has an auth provider';
  if (cluster['proxy-url']) return 'the cluster is reached through a proxy';
  if (cluster['insecure-skip-tls-verify'] === true) return 'the cluster skips TLS verification';
  // Plain http (kubectl proxy) is ours: client-node refuses it without insecure-skip-tls-verify.
  if (!/^https?:\/\//.test(server)) return 'the server is neither https nor http';
  return undefined;
}

/**
 * The connection of `context` (default: the first file's current-context) across kubeconfig
 * files merged the way kubectl merges $KUBECONFIG: the first file that names an entry wins.
 */
export function resolveKubeconfig(files: KubeconfigFile[], context?: string): KubeConnection {
  const contextName = context ?? files.map((f) => str(f.doc['current-context'])).find(Boolean);
  if (!contextName) throw new KubeconfigError('the kubeconfig has no current-context');
  const ctx = find(files, 'contexts', contextName);
  if (!ctx) throw new KubeconfigError(`the kubeconfig has no context ${contextName}`);
  const clusterName = str(ctx.fields.cluster);
  const cluster = clusterName ? find(files, 'clusters', clusterName) : undefined;
  if (!cluster) throw new KubeconfigError(`context ${contextName} names no known cluster`);
  const server = str(cluster.fields.server)?.replace(/\/$/, '');
  if (!server) throw new KubeconfigError(`cluster ${clusterName} has no server`);
  const userName = str(ctx.fields.user);
  const user = (userName ? find(files, 'users', userName) : undefined) ?? { fields: {}, dir: '' };
  const u = user.fields;
  const connection: KubeConnection = {
    server,
    namespace: str(ctx.fields.namespace),
    context: contextName,
  };
  const ca = source(
    cluster.fields,
    cluster.dir,
    'certificate-authority',
    'certificate-authority-data',
  );
  if (ca) connection.ca = ca;
  const tlsServerName = str(cluster.fields['tls-server-name']);
  if (tlsServerName) connection.tlsServerName = tlsServerName;
  const cert = source(u, user.dir, 'client-certificate', 'client-certificate-data');
  if (cert) connection.cert = cert;
  const key = source(u, user.dir, 'client-key', 'client-key-data');
  if (key) connection.key = key;
  const token = str(u.token);
  const tokenFile = str(u.tokenFile) ?? str(u['token-file']);
  if (token) connection.token = { data: Buffer.from(token) };
  else if (tokenFile)
    connection.token = { file: isAbsolute(tokenFile) ? tokenFile : join(user.dir, tokenFile) };
  const username = str(u.username);
  if (username) connection.basic = { username, password: str(u.password) ?? '' };
  const as = str(u.as);
  if (as) connection.impersonate = as;
  const delegate = delegation(u, cluster.fields, server);
  if (delegate) connection.delegate = delegate;
  return connection;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * In a pod: the API server from KUBERNETES_SERVICE_HOST/PORT, the service account's CA and
 * its token file (the kubelet rotates it; it is read again), the pod's namespace.
 */
export function inClusterConnection(
  env: Record<string, string | undefined>,
  namespace: string | undefined,
  dir = SERVICE_ACCOUNT_DIR,
): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new KubeconfigError('in a pod, but KUBERNETES_SERVICE_HOST or _PORT is not set');
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    namespace,
    ca: { file: join(dir, 'ca.crt') },
    token: { file: join(dir, 'token') },
  };
}
