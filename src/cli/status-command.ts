// `b2b status`: reads accounts, certificates, events and the store Secret with the project's
// own Kubernetes client (src/kube/client.ts), as the current kubeconfig allows.
import {
  CertificateResource,
  IntegrationAccountResource,
  type Certificate,
  type IntegrationAccount,
} from '../api/types.ts';
import { EventType, KubeClient, SecretType, isNotFound, resourcePath } from '../kube/client.ts';
import { ownedBy, type SecretMetadata } from '../stores/secret-content.ts';
import { secretNameFor } from '../stores/store-names.ts';
import { UsageError, flag, has, type ParsedArgs } from './args.ts';
import type { Io } from './main.ts';
import {
  explainCertificate,
  statusRows,
  statusTable,
  type EventSummary,
  type StoreEntry,
} from './status.ts';

export function connect(args: ParsedArgs): { client: KubeClient; namespace: string } {
  const client = KubeClient.load(flag(args, 'kubeconfig'));
  return { client, namespace: flag(args, 'namespace') ?? client.namespace ?? 'default' };
}

export async function runStatus(io: Io, args: ParsedArgs): Promise<number> {
  const format = flag(args, 'output') ?? 'human';
  if (!['human', 'json'].includes(format))
    throw new UsageError(`-o must be human or json, not ${format}`);
  const [what, name, ...extra] = args.positional;
  if (what !== undefined && (what !== 'certificate' || name === undefined || extra.length))
    throw new UsageError('expected `b2b status` or `b2b status certificate NAME`');
  const all = has(args, 'all-namespaces');
  if (all && has(args, 'namespace')) throw new UsageError('-A and -n exclude each other');
  const { client, namespace } = connect(args);
  if (name !== undefined) return explain(io, client, namespace, name, format);
  const ns = all ? undefined : namespace;
  const [accounts, certificates] = await Promise.all([
    client.list<{ items: IntegrationAccount[] }>(
      resourcePath(IntegrationAccountResource, { namespace: ns }),
    ),
    client.list<{ items: Certificate[] }>(resourcePath(CertificateResource, { namespace: ns })),
  ]);
  const rows = statusRows(accounts.items, certificates.items);
  io.stdout(
    format === 'json' ? JSON.stringify(rows, null, 2) + '\n' : statusTable(rows, io.now(), all),
  );
  return 0;
}

interface Secret extends SecretMetadata {
  data?: Record<string, string>;
}

async function explain(
  io: Io,
  client: KubeClient,
  namespace: string,
  name: string,
  format: string,
): Promise<number> {
  let certificate: Certificate;
  try {
    certificate = await client.get<Certificate>(
      resourcePath(CertificateResource, { namespace, name }),
    );
  } catch (err) {
    if (!isNotFound(err)) throw err;
    io.stderr(`error: Certificate ${name} not found in namespace ${namespace}\n`);
    return 1;
  }
  const events = await client.list<{ items: EventSummary[] }>(
    resourcePath(EventType, { namespace }),
    {
      fieldSelector: `involvedObject.kind=Certificate,involvedObject.name=${name}`,
    },
  );
  const store = await storeEntry(client, certificate);
  const ordered = [...events.items].sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
  const ready = certificate.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  io.stdout(
    format === 'json'
      ? JSON.stringify({ certificate, events: ordered, store }, null, 2) + '\n'
      : explainCertificate(certificate, ordered, store, io.now()),
  );
  return ready ? 0 : 1;
}

const eventTime = (e: EventSummary) =>
  e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '';

async function storeEntry(client: KubeClient, certificate: Certificate): Promise<StoreEntry> {
  const { namespace } = certificate.metadata;
  const name = secretNameFor(certificate.metadata.name);
  try {
    const secret = await client.get<Secret>(resourcePath(SecretType, { namespace, name }));
    const keyJson = secret.data?.['key.json'];
    return {
      name,
      secret: {
        keys: Object.keys(secret.data ?? {}).sort(),
        ownedByThisCertificate: ownedBy(secret, certificate),
        keyReference: keyJson ? Buffer.from(keyJson, 'base64').toString('utf8') : undefined,
      },
    };
  } catch (err) {
    if (isNotFound(err)) return { name, secret: undefined };
    throw err;
  }
}
