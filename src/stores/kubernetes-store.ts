// The kubernetes store: one Secret per Ready certificate (see secret-content.ts for what it
// holds). Steady state costs nothing: the store remembers the resourceVersion at which it last
// wrote or read each Secret, and the metadata cache tells whether that is still the current
// one. Any other version (a hand edit, or one not seen since start-up) is read once, compared
// and, if it differs, put back. A Secret of that name that is not ours is touched only as
// spec.adoption allows (secret-adoption.ts).
import { Labels, type Certificate } from '../api/types.ts';
import {
  SecretType,
  isConflict,
  isNotFound,
  resourcePath,
  type KubeClient,
} from '../kube/client.ts';
import {
  CONTENT_HASH_ANNOTATION,
  differences,
  desiredSecret,
  isHandEdit,
  newSecret,
  ownedBy,
  ownerReferenceTo,
  ownerReferenceDiffers,
  ownerReferences,
  patchFor,
  type DesiredSecret,
  type SecretMetadata,
  type StoredSecret,
} from './secret-content.ts';
import { secretTakeOver, withoutEarlierOwners } from './secret-adoption.ts';
import { secretNameFor } from './store-names.ts';
import { StoreConflictError, type Store, type StoreEntry, type SyncResult } from './store.ts';

export { CONTENT_HASH_ANNOTATION, type SecretMetadata } from './secret-content.ts';
export { secretNameFor } from './store-names.ts';

/** Reads Secret metadata from the operator's cache (never Secret data). */
export type SecretMetadataLookup = (namespace: string, name: string) => SecretMetadata | undefined;

const conflict = (name: string) =>
  new StoreConflictError(
    `Secret ${name} already exists and is not owned by this Certificate; it is left untouched. Delete or rename it, or rename the Certificate`,
  );

export class KubernetesStore implements Store {
  readonly type = 'kubernetes';

  private readonly client: KubeClient;
  private readonly cachedSecret: SecretMetadataLookup;
  /** namespace/name -> the object and version we last wrote or read, and the entry it holds. */
  private readonly known = new Map<
    string,
    { uid: string | undefined; resourceVersion: string; hash: string }
  >();

  constructor(client: KubeClient, cachedSecret: SecretMetadataLookup) {
    this.client = client;
    this.cachedSecret = cachedSecret;
  }

  refFor(certificate: Certificate): string {
    return secretNameFor(certificate.metadata.name);
  }

  /**
   * Always: the Secret has no ownerReference (an uninstall must not take it along), so Delete
   * needs the operator to delete it, and Retain to remove the uid label.
   */
  needsFinalizer(): boolean {
    return true;
  }

  async sync(entry: StoreEntry): Promise<SyncResult> {
    const { certificate } = entry;
    const desired = desiredSecret(entry);
    const namespace = certificate.metadata.namespace;
    const key = `${namespace}/${desired.name}`;
    const cached = this.cachedSecret(namespace, desired.name);
    const known = this.known.get(key) ?? this.recorded(certificate, cached);
    if (cached && known && known.resourceVersion === cached.metadata?.resourceVersion) {
      if (known.hash === desired.hash && !ownerReferenceDiffers(desired, cached, certificate)) {
        this.known.set(key, known);
        return { ref: desired.name, written: false, version: known.resourceVersion };
      }
      return this.update(desired, cached, certificate, false);
    }
    if (!cached) {
      const created = await this.create(desired, certificate);
      if (created) return created;
    }
    // Changed by someone else, or not seen since start-up: read it, data included, and compare.
    const current = await this.read(namespace, desired.name);
    if (!current) {
      const created = await this.create(desired, certificate);
      if (created) return created;
      throw new Error(`Secret ${desired.name} was deleted and re-created while being written`);
    }
    // Our own current entry, changed since: someone else's edit, whatever the annotation says.
    const ours = known?.hash === desired.hash;
    return this.update(desired, current, certificate, true, ours);
  }

  /** Undefined when a Secret of that name already exists. */
  private async create(
    desired: DesiredSecret,
    certificate: Certificate,
  ): Promise<SyncResult | undefined> {
    const namespace = certificate.metadata.namespace;
    try {
      const created = await this.client.create<SecretMetadata>(
        resourcePath(SecretType, { namespace }),
        newSecret(desired, namespace),
      );
      this.remember(namespace, created, desired);
      return { ref: desired.name, written: true, version: created.metadata?.resourceVersion };
    } catch (err) {
      if (!isConflict(err)) throw err;
      return undefined;
    }
  }

  /**
   * Brings `current` to the desired entry. Read (data included) it is compared first; from
   * the cache (no data) it is known to be an older entry of ours.
   */
  private async update(
    desired: DesiredSecret,
    current: StoredSecret,
    certificate: Certificate,
    read: boolean,
    wasCurrent = false,
    attempt = 0,
  ): Promise<SyncResult> {
    const namespace = certificate.metadata.namespace;
    const { name } = desired;
    let taken: SyncResult['taken'];
    if (!this.isOurs(current, certificate, namespace, name)) {
      // Not carrying our uid: spec.adoption decides, on the Secret as read (data included).
      if (!read) throw conflict(name);
      const verdict = secretTakeOver(current, certificate, desired.data);
      if (!verdict.taken) throw new StoreConflictError(verdict.message);
      taken = { event: verdict.event, message: verdict.message };
      current = withoutEarlierOwners(current, certificate);
    }
    const found = read ? differences(desired, current, certificate) : [];
    if (read && found.length === 0 && !ownerReferenceDiffers(desired, current, certificate)) {
      this.remember(namespace, current, desired);
      return { ref: name, written: false, version: current.metadata?.resourceVersion };
    }
    const dataKeys = read ? Object.keys(current.data ?? {}) : undefined;
    try {
      const written = await this.client.patch<SecretMetadata>(
        resourcePath(SecretType, { namespace, name }),
        patchFor(desired, current, certificate, dataKeys),
      );
      this.remember(namespace, written, desired);
      return {
        ref: name,
        written: true,
        version: written.metadata?.resourceVersion,
        restored:
          !taken && read && found.length && (wasCurrent || isHandEdit(desired, current))
            ? found
            : undefined,
        taken,
      };
    } catch (err) {
      // Written by someone in between (or our cache was a step behind): read it and compare.
      if (!isConflict(err) || attempt > 0) throw err;
      const again = await this.read(namespace, name);
      if (!again) throw err;
      return this.update(desired, again, certificate, true, wasCurrent, attempt + 1);
    }
  }

  /** Certificates that were deleted: what was remembered of their Secrets goes too. */
  forget(namespace: string, certificateName: string): void {
    this.known.delete(`${namespace}/${secretNameFor(certificateName)}`);
  }

  /** Secrets whose last written or read version is remembered. */
  get rememberedSecrets(): number {
    return this.known.size;
  }

  async remove(certificate: Certificate): Promise<void> {
    const name = this.refFor(certificate);
    const namespace = certificate.metadata.namespace;
    this.known.delete(`${namespace}/${name}`);
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

  /**
   * While a check fails: the Secret keeps its last good content but loses the ownerReference an
   * earlier version wrote, or deleting the CRD (or a foreground delete under Retain) would take
   * it along. Read from the metadata cache: no request unless there is something to change.
   */
  async applyDeletionPolicy(certificate: Certificate): Promise<void> {
    const name = this.refFor(certificate);
    const namespace = certificate.metadata.namespace;
    const key = `${namespace}/${name}`;
    const known = this.known.get(key);
    const cached = this.cachedSecret(namespace, name);
    // Written by us at a version the cache has not shown yet: the cache may lack the owner.
    const current =
      known && known.resourceVersion !== cached?.metadata?.resourceVersion
        ? await this.read(namespace, name)
        : cached;
    if (!current || !ownerReferenceTo(current, certificate)) return;
    const owners = ownerReferences(current, certificate, undefined);
    const written = await this.client.patch<SecretMetadata>(
      resourcePath(SecretType, { namespace, name }),
      {
        metadata: {
          ownerReferences: owners.length ? owners : null,
          resourceVersion: current.metadata?.resourceVersion,
        },
      },
    );
    // The content is unchanged: what is remembered of it holds at the new version.
    const version = written.metadata?.resourceVersion;
    if (known && version && known.resourceVersion === current.metadata?.resourceVersion)
      this.known.set(key, { ...known, resourceVersion: version });
  }

  async release(certificate: Certificate): Promise<void> {
    const name = this.refFor(certificate);
    const namespace = certificate.metadata.namespace;
    this.known.delete(`${namespace}/${name}`);
    const current = await this.read(namespace, name);
    if (!current || !ownedBy(current, certificate)) return;
    await this.letGo(current, certificate);
  }

  /** Leaves the Secret to its users: no ownerReference to the Certificate, no uid label. */
  private async letGo(current: StoredSecret, certificate: Certificate): Promise<void> {
    const name = this.refFor(certificate);
    const namespace = certificate.metadata.namespace;
    const owners = ownerReferences(current, certificate, undefined);
    await this.client.patch(resourcePath(SecretType, { namespace, name }), {
      metadata: {
        ownerReferences: owners.length ? owners : null,
        labels: { [Labels.certificateUid]: null },
        resourceVersion: current.metadata?.resourceVersion,
      },
    });
  }

  /**
   * After a restart: the Secret as the status says we last wrote it, when the cache shows that
   * very version (an edit, or a delete and re-create, would have given it another one).
   */
  private recorded(
    certificate: Certificate,
    cached: SecretMetadata | undefined,
  ): { uid: string | undefined; resourceVersion: string; hash: string } | undefined {
    const meta = cached?.metadata;
    const recorded = certificate.status?.store;
    if (!meta?.resourceVersion || !recorded?.resourceVersion) return undefined;
    if (recorded.resourceVersion !== meta.resourceVersion || recorded.ref !== meta.name)
      return undefined;
    return {
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      hash: meta.annotations?.[CONTENT_HASH_ANNOTATION] ?? '',
    };
  }

  /** Marked as ours, or the very object we wrote (whose marks someone removed since). */
  private isOurs(
    current: SecretMetadata,
    certificate: Certificate,
    namespace: string,
    name: string,
  ): boolean {
    const uid = this.known.get(`${namespace}/${name}`)?.uid;
    return ownedBy(current, certificate) || (uid !== undefined && uid === current.metadata?.uid);
  }

  private remember(namespace: string, secret: SecretMetadata, desired: DesiredSecret): void {
    const { uid, resourceVersion } = secret.metadata ?? {};
    if (resourceVersion)
      this.known.set(`${namespace}/${desired.name}`, { uid, resourceVersion, hash: desired.hash });
  }

  private async read(namespace: string, name: string): Promise<StoredSecret | undefined> {
    try {
      return await this.client.get<StoredSecret>(resourcePath(SecretType, { namespace, name }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
