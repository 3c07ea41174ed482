// List+watch into a local cache, built to survive what real API servers do: watches that end,
// 410 Gone, errors, and half-open connections that never say a word. Handlers only ever see
// real changes (a different resourceVersion), so they can stay at "enqueue the key".
import { isGone, isNotFound, type KubeClient, type WatchEvent } from '../kube/client.ts';
import { errorMessage, type Logger } from '../operator/log.ts';

export interface KubeObject {
  metadata?: {
    name?: string | undefined;
    namespace?: string | undefined;
    resourceVersion?: string | undefined;
  };
}

interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[] | null;
}

export interface InformerHandlers<T> {
  /** `initialList`: from the first list (start-up), not a change seen while running. */
  added?(obj: T, initialList: boolean): void;
  updated?(oldObj: T, newObj: T): void;
  deleted?(obj: T): void;
}

export interface InformerOptions<T extends KubeObject = KubeObject> {
  name: string;
  client: KubeClient;
  /** Collection path, e.g. /apis/g/v/certificates or /api/v1/namespaces/x/secrets. */
  path: string;
  labelSelector?: string;
  /** Metadata-only: Secrets' data is never held in memory. */
  metadataOnly?: boolean;
  /**
   * Applied to each object before it is cached (drop what nobody reads). managedFields and
   * kubectl's last-applied-configuration are always dropped first.
   */
  transform?: (obj: T) => T;
  /** No byte for this long means the connection is dead: re-watch. */
  idleTimeoutMs?: number;
  /** A full relist this often, whatever the watch says. */
  relistIntervalMs?: number;
  /**
   * A resource the API server does not serve (404, its CRD deleted) counts as an empty, synced
   * list: what depends on this cache can still start (retried with backoff all the same).
   */
  emptyWhenNotServed?: boolean;
  /**
   * Once synced, a 404 empties the cache only when this confirms the resource is gone (its CRD
   * deleted or being deleted): an API server that is starting up answers 404 for a CRD's
   * resources for a moment, and emptying then would report every object deleted.
   */
  confirmNotServed?: () => Promise<boolean>;
  log: Logger;
}

const METADATA_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_WATCH_ACCEPT =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

const LIST_PAGE_SIZE = 500;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

interface LooseMetadata {
  managedFields?: unknown;
  annotations?: Record<string, string>;
}

/**
 * Drops what the operator never reads and what can be large or secret: managedFields, and
 * kubectl's last-applied-configuration, which holds a whole applied object (a Secret's data).
 * Metadata is rebuilt rather than `delete`d from: V8 turns an object it deletes from into a
 * hash table (~0.5 KiB more per cached object).
 */
function stripUnread<T extends KubeObject>(obj: T): T {
  const metadata = obj.metadata as (LooseMetadata & Record<string, unknown>) | undefined;
  if (!metadata) return obj;
  const rest = Object.fromEntries(
    Object.entries(metadata).filter(([k]) => k !== 'managedFields' && k !== 'annotations'),
  );
  const kept = Object.entries(metadata.annotations ?? {}).filter(([a]) => a !== LAST_APPLIED);
  (obj as { metadata: unknown }).metadata = kept.length
    ? { ...rest, annotations: Object.fromEntries(kept) }
    : rest;
  return obj;
}

/** A transform that keeps only the annotations `keep` accepts. */
export function keepAnnotations<T extends KubeObject>(keep: (name: string) => boolean) {
  return (obj: T): T => {
    const metadata = obj.metadata as (LooseMetadata & Record<string, unknown>) | undefined;
    if (!metadata?.annotations) return obj;
    const { annotations, ...rest } = metadata;
    const kept = Object.entries(annotations).filter(([name]) => keep(name));
    (obj as { metadata: unknown }).metadata = kept.length
      ? { ...rest, annotations: Object.fromEntries(kept) }
      : rest;
    return obj;
  };
}

/** Strings longer than this are left as they are (PEMs, messages with details). */
const INTERN_MAX_LENGTH = 128;

/**
 * One copy of each short string value: JSON.parse gives every object its own copy of
 * "integration.b2b.dev/v1alpha1", its namespace, account, condition reasons and so on (about
 * 2.5 KiB per cached Certificate). A string used as a property key is V8's internalized
 * copy, from a table that holds it weakly: nothing to evict, no table of our own.
 */
export function internStrings<T>(value: T): T {
  if (typeof value === 'string')
    return (value.length <= INTERN_MAX_LENGTH ? Object.keys({ [value]: 0 })[0] : value) as T;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = internStrings(value[i] as unknown);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = internStrings(record[key]);
  }
  return value;
}

interface ChangeMetadata {
  generation?: number | undefined;
  deletionTimestamp?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  finalizers?: string[] | undefined;
  ownerReferences?: unknown[] | undefined;
}

/**
 * Whether an update changed nothing but status (and resourceVersion): the echo of a status
 * write. Spec changes move the generation; metadata someone may act on is compared too.
 */
export function onlyStatusChanged(before: KubeObject, after: KubeObject): boolean {
  const a = (before.metadata ?? {}) as ChangeMetadata;
  const b = (after.metadata ?? {}) as ChangeMetadata;
  const same = (x: unknown, y: unknown) => JSON.stringify(x ?? null) === JSON.stringify(y ?? null);
  return (
    a.generation === b.generation &&
    a.deletionTimestamp === b.deletionTimestamp &&
    same(a.labels, b.labels) &&
    same(a.annotations, b.annotations) &&
    same(a.finalizers, b.finalizers) &&
    same(a.ownerReferences, b.ownerReferences)
  );
}

export const objectKey = (obj: KubeObject): string =>
  obj.metadata?.namespace
    ? `${obj.metadata.namespace}/${obj.metadata.name ?? ''}`
    : (obj.metadata?.name ?? '');

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  /** index name -> index value -> keys of the objects with that value. */
  private readonly indexes = new Map<
    string,
    { fn: (obj: T) => string[]; entries: Map<string, Set<string>> }
  >();
  private resourceVersion = '';
  private synced = false;
  private syncedWaiters: (() => void)[] = [];
  private failures = 0;
  /** Counts of what happened, for tests and logs. */
  readonly stats = { lists: 0, watches: 0, restarts: 0, gone: 0, idleTimeouts: 0 };

  private readonly options: InformerOptions<T>;

  constructor(options: InformerOptions<T>) {
    this.options = options;
  }

  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Maintains an index (e.g. certificates by account) so lookups need no scan of the cache. */
  addIndex(name: string, fn: (obj: T) => string[]): void {
    const entries = new Map<string, Set<string>>();
    for (const [key, obj] of this.cache)
      for (const value of fn(obj)) this.addToIndex(entries, value, key);
    this.indexes.set(name, { fn, entries });
  }

  /** How many objects have that index value (no array built). */
  indexSize(name: string, value: string): number {
    return this.indexes.get(name)?.entries.get(value)?.size ?? 0;
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.entries.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.cache.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  private addToIndex(entries: Map<string, Set<string>>, value: string, key: string): void {
    let keys = entries.get(value);
    if (!keys) entries.set(value, (keys = new Set()));
    keys.add(key);
  }

  private reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const { fn, entries } of this.indexes.values()) {
      if (old) {
        for (const value of fn(old)) {
          const keys = entries.get(value);
          keys?.delete(key);
          if (keys?.size === 0) entries.delete(value);
        }
      }
      if (obj) for (const value of fn(obj)) this.addToIndex(entries, value, key);
    }
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { log, name } = this.options;
    const relistEvery = this.options.relistIntervalMs ?? 30 * 60_000;
    let needList = true;
    let lastList = 0;
    while (!signal.aborted) {
      try {
        if (needList || Date.now() - lastList > relistEvery) {
          await this.relist();
          lastList = Date.now();
          needList = false;
        }
        await this.watchOnce(signal);
        this.failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        this.stats.restarts++;
        needList = true;
        if (isGone(err)) {
          this.stats.gone++;
          log.info('watch expired (410 Gone); relisting', { informer: name });
          continue;
        }
        this.failures++;
        if (isNotFound(err) && this.options.emptyWhenNotServed && (await this.goneForSure()))
          this.notServed();
        const delay =
          Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6)) * (0.5 + Math.random());
        log.warn('watch failed; restarting', {
          informer: name,
          error: errorMessage(err),
          ...(isNotFound(err)
            ? {
                hint: 'the API server does not serve this resource: are the CRDs installed? (kubectl apply -f crds/)',
              }
            : {}),
          retryInMs: Math.round(delay),
        });
        await sleep(delay, signal);
      }
    }
  }

  /** Before the first sync the cache is empty anyway; after it, only when confirmed. */
  private async goneForSure(): Promise<boolean> {
    if (!this.synced || !this.options.confirmNotServed) return true;
    try {
      return await this.options.confirmNotServed();
    } catch {
      return false;
    }
  }

  /** Nothing of a resource that is not served: an empty cache, synced. */
  private notServed(): void {
    for (const [key, old] of this.cache) {
      this.cache.delete(key);
      this.reindex(key, old, undefined);
      for (const h of this.handlers) h.deleted?.(old);
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncedWaiters) w();
      this.syncedWaiters = [];
    }
  }

  private query(): Record<string, string | undefined> {
    return { labelSelector: this.options.labelSelector };
  }

  private async relist(): Promise<void> {
    const { client, path, metadataOnly, log, name } = this.options;
    this.stats.lists++;
    let seen = new Set<string>();
    let resourceVersion = '';
    let next: string | undefined;
    const listPage = (query: Record<string, string | number | undefined>) =>
      client.request<ObjectList<T>>('GET', path, {
        query: { ...this.query(), ...query },
        timeoutMs: 120_000,
        ...(metadataOnly ? { accept: METADATA_ACCEPT } : {}),
      });
    // In pages, as client-go's pager: a list of 10,000 Certificates in one response is ~20 MB
    // of JSON, held three times over (bytes, text, objects) while it is parsed.
    do {
      let list: ObjectList<T>;
      try {
        list = await listPage({ limit: LIST_PAGE_SIZE, continue: next });
      } catch (err) {
        if (!next || !isGone(err)) throw err;
        // The continue token expired (etcd compacted its revision): paging again from the start
        // could expire again and again under steady writes. client-go's pager falls back to one
        // full list; it is complete by itself, so the pages read before count for nothing.
        log.info('list continue token expired (410 Gone); listing in one piece', {
          informer: name,
        });
        list = await listPage({});
        seen = new Set();
      }
      for (const item of list.items ?? []) {
        const key = objectKey(item);
        seen.add(key);
        this.upsert(key, item);
      }
      resourceVersion = list.metadata?.resourceVersion ?? '';
      next = list.metadata?.continue || undefined;
    } while (next);
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.reindex(key, old, undefined);
        for (const h of this.handlers) h.deleted?.(old);
      }
    }
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncedWaiters) w();
      this.syncedWaiters = [];
    }
  }

  private prepare(obj: T): T {
    const stripped = stripUnread(obj);
    return internStrings(this.options.transform ? this.options.transform(stripped) : stripped);
  }

  private upsert(key: string, received: T): void {
    const obj = this.prepare(received);
    const old = this.cache.get(key);
    this.cache.set(key, obj);
    this.reindex(key, old, obj);
    if (!old) for (const h of this.handlers) h.added?.(obj, !this.synced);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
      for (const h of this.handlers) h.updated?.(old, obj);
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const { client, path, metadataOnly } = this.options;
    const idleTimeoutMs = this.options.idleTimeoutMs ?? 180_000;
    this.stats.watches++;
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const idle = await client.watch<T>(
      path,
      {
        ...this.query(),
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      },
      (event: WatchEvent<T>) => this.apply(event),
      { signal, idleTimeoutMs, ...(metadataOnly ? { accept: METADATA_WATCH_ACCEPT } : {}) },
    );
    if (idle === 'idle') {
      this.stats.idleTimeouts++;
      this.options.log.warn('watch silent for too long; reconnecting', {
        informer: this.options.name,
        idleTimeoutMs,
      });
    }
  }

  private apply(event: WatchEvent<T>): void {
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const key = objectKey(event.object);
    if (event.type === 'DELETED') {
      const old = this.cache.get(key);
      this.cache.delete(key);
      this.reindex(key, old, undefined);
      for (const h of this.handlers) h.deleted?.(old ?? this.prepare(event.object));
      return;
    }
    this.upsert(key, event.object);
  }
}
