// One cache over several namespaces (--watch-namespace a,b): an informer per namespace, so that
// RBAC may stay a Role in each of them (a cluster-wide watch would need a ClusterRole). Keys are
// `namespace/name`, so a lookup goes to that namespace's informer only.
import type { Informer, InformerHandlers } from './informer.ts';

/** What the operator reads of a cache, whether one informer or a group of them. */
export interface Cache<T> {
  on(handlers: InformerHandlers<T>): void;
  get(key: string): T | undefined;
  addIndex(name: string, fn: (obj: T) => string[]): void;
  indexSize(name: string, value: string): number;
  byIndex(name: string, value: string): T[];
  list(): T[];
  waitForSync(): Promise<void>;
  run(signal: AbortSignal): Promise<void>;
}

export class InformerGroup<T extends object> implements Cache<T> {
  private readonly byNamespace: ReadonlyMap<string, Informer<T>>;

  constructor(informers: ReadonlyMap<string, Informer<T>>) {
    this.byNamespace = informers;
  }

  private get all(): Informer<T>[] {
    return [...this.byNamespace.values()];
  }

  on(handlers: InformerHandlers<T>): void {
    for (const i of this.all) i.on(handlers);
  }

  get(key: string): T | undefined {
    return this.byNamespace.get(key.slice(0, key.indexOf('/')))?.get(key);
  }

  addIndex(name: string, fn: (obj: T) => string[]): void {
    for (const i of this.all) i.addIndex(name, fn);
  }

  indexSize(name: string, value: string): number {
    return this.all.reduce((n, i) => n + i.indexSize(name, value), 0);
  }

  byIndex(name: string, value: string): T[] {
    return this.all.flatMap((i) => i.byIndex(name, value));
  }

  list(): T[] {
    return this.all.flatMap((i) => i.list());
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.all.map((i) => i.waitForSync()));
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(this.all.map((i) => i.run(signal)));
  }
}
