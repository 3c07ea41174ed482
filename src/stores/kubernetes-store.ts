// The kubernetes store: one Secret per Ready certificate, `<certificate>-b2bcert`, owned by
// the Certificate. Writes happen only when the content differs (a content hash annotation,
// read from the metadata cache, says so); a Secret of that name that is not ours is never
// touched.
import { createHash } from 'node:crypto';
import { API_VERSION, GROUP, Labels, type Certificate } from '../api/types.ts';
import {
  SecretType,
  isConflict,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../kube/client.ts';
import { StoreConflictError, type Store, type StoreEntry, type SyncResult } from './store.ts';

export const CONTENT_HASH_ANNOTATION = `${GROUP}/content-hash`;

export interface SecretMetadata {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string; kind: string; name: string; apiVersion: string }[];
  };
}

/** Reads Secret metadata from the operator's cache (never Secret data). */
export type SecretMetadataLookup = (namespace: string, name: string) => SecretMetadata | undefined;

interface DesiredSecret {
  metadata: Record<string, unknown>;
  type: 'Opaque';
  data: Record<string, string>;
}

export function secretNameFor(certificateName: string): string {
  return `${certificateName}-b2bcert`;
}

export function desiredSecret(entry: StoreEntry): DesiredSecret {
  const { certificate } = entry;
  const data: Record<string, string> = {
    'tls.crt': entry.pem,
    'metadata.json': JSON.stringify(entry.metadata),
  };
  if (entry.key) data['key.json'] = JSON.stringify(entry.key);
  const labels = {
    [Labels.integrationAccount]: certificate.spec.integrationAccount.name,
    [Labels.certificate]: certificate.metadata.name,
    [Labels.type]: certificate.spec.type,
  };
  const hash = createHash('sha256').update(JSON.stringify({ data, labels })).digest('hex');
  return {
    metadata: {
      name: secretNameFor(certificate.metadata.name),
      namespace: certificate.metadata.namespace,
      labels,
      annotations: { [CONTENT_HASH_ANNOTATION]: hash },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: 'Certificate',
          name: certificate.metadata.name,
          uid: certificate.metadata.uid,
          controller: true,
          blockOwnerDeletion: false,
        },
      ],
    },
    type: 'Opaque',
    data: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
  };
}

const ownedBy = (secret: SecretMetadata | undefined, certificate: Certificate): boolean =>
  secret?.metadata?.ownerReferences?.some((o) => o.uid === certificate.metadata.uid) ?? false;

export class KubernetesStore implements Store {
  readonly type = 'kubernetes';

  private readonly client: KubeClient;
  private readonly cachedSecret: SecretMetadataLookup;

  constructor(client: KubeClient, cachedSecret: SecretMetadataLookup) {
    this.client = client;
    this.cachedSecret = cachedSecret;
  }

  refFor(certificate: Certificate): string {
    return secretNameFor(certificate.metadata.name);
  }

  async sync(entry: StoreEntry): Promise<SyncResult> {
    const { certificate } = entry;
    const desired = desiredSecret(entry);
    const name = this.refFor(certificate);
    const namespace = certificate.metadata.namespace;
    const hash = (desired.metadata.annotations as Record<string, string>)[CONTENT_HASH_ANNOTATION];
    let current = this.cachedSecret(namespace, name);
    if (!current) {
      try {
        await this.client.create(resourcePath(SecretType, { namespace }), desired);
        return { ref: name, written: true };
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Not in our cache yet, but there: read it to know whose it is.
        current = await this.client.get<SecretMetadata>(
          resourcePath(SecretType, { namespace, name }),
        );
      }
    }
    if (!ownedBy(current, certificate)) {
      throw new StoreConflictError(
        `Secret ${name} already exists and is not owned by this Certificate; it is left untouched. Delete or rename it, or rename the Certificate`,
      );
    }
    for (let attempt = 0; ; attempt++) {
      if (current.metadata?.annotations?.[CONTENT_HASH_ANNOTATION] === hash)
        return { ref: name, written: false };
      // Merge patch: data keys we no longer want (key.json of a Private turned Public) go as null.
      const data: Record<string, string | null> = { 'key.json': null, ...desired.data };
      try {
        await this.client.patch(resourcePath(SecretType, { namespace, name }), {
          ...desired,
          data,
          metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion },
        });
        return { ref: name, written: true };
      } catch (err) {
        // Our cache was a step behind (we wrote it a moment ago): read it again and compare.
        if (!isConflict(err) || attempt > 0) throw err;
        current = await this.client.get<SecretMetadata>(
          resourcePath(SecretType, { namespace, name }),
        );
        if (!ownedBy(current, certificate)) {
          throw new StoreConflictError(
            `Secret ${name} is no longer owned by this Certificate; it is left untouched`,
          );
        }
      }
    }
  }

  async remove(certificate: Certificate): Promise<void> {
    const name = this.refFor(certificate);
    const namespace = certificate.metadata.namespace;
    const current = await this.read(namespace, name);
    if (!current || !ownedBy(current, certificate)) return;
    try {
      await this.client.delete(resourcePath(SecretType, { namespace, name }), {
        // Only the object we read and found ours: not one adopted by someone in between.
        preconditions: {
          uid: current.metadata?.uid,
          resourceVersion: current.metadata?.resourceVersion,
        },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async release(certificate: Certificate): Promise<void> {
    const name = this.refFor(certificate);
    const namespace = certificate.metadata.namespace;
    const current = await this.read(namespace, name);
    if (!current || !ownedBy(current, certificate)) return;
    const owners = (current.metadata?.ownerReferences ?? []).filter(
      (o) => o.uid !== certificate.metadata.uid,
    );
    await this.client.patch(resourcePath(SecretType, { namespace, name }), {
      metadata: {
        ownerReferences: owners.length ? owners : null,
        resourceVersion: current.metadata?.resourceVersion,
      },
    });
  }

  private async read(namespace: string, name: string): Promise<SecretMetadata | undefined> {
    try {
      return await this.client.get<SecretMetadata>(resourcePath(SecretType, { namespace, name }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
