// The informer's reaction to 410 Gone, with a plain-object client (the real server's 410 is
// checked in test/integration/informer.test.ts).
import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeClient, type WatchEvent } from '../../../src/kube/client.ts';
import { silentLogger } from '../../../src/operator/log.ts';
import { Informer } from '../../../src/runtime/informer.ts';

interface Obj {
  metadata: { name: string; namespace: string; resourceVersion: string };
}
const obj = (name: string, rv: string): Obj => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

const cachedNames = (informer: Informer<Obj>) =>
  informer
    .list()
    .map((o) => o.metadata.name)
    .sort();

describe('Informer on 410 Gone', () => {
  it('relists, then reports what changed in between as adds, updates and deletes', async () => {
    const lists = [
      { metadata: { resourceVersion: '10' }, items: [obj('a', '1'), obj('b', '2')] },
      { metadata: { resourceVersion: '20' }, items: [obj('a', '1'), obj('b', '5'), obj('c', '6')] },
    ];
    let watches = 0;
    const abort = new AbortController();
    const client = {
      request: () =>
        Promise.resolve(lists.shift() ?? { metadata: { resourceVersion: '20' }, items: [] }),
      watch: (
        _p: string,
        query: Record<string, unknown>,
        onEvent: (e: WatchEvent<Obj>) => void,
      ) => {
        watches++;
        if (watches === 1) {
          expect(query.resourceVersion).toBe('10');
          return Promise.reject(
            new KubeApiError(
              410,
              { reason: 'Expired', message: 'too old resource version' },
              'WATCH',
            ),
          );
        }
        expect(query.resourceVersion).toBe('20');
        onEvent({ type: 'BOOKMARK', object: obj('', '21') });
        abort.abort();
        return Promise.resolve('aborted' as const);
      },
    } as unknown as KubeClient;
    const informer = new Informer<Obj>({ name: 't', client, path: '/x', log: silentLogger });
    const events: string[] = [];
    informer.on({
      added: (o, initial) => events.push(`added ${o.metadata.name}${initial ? ' (initial)' : ''}`),
      updated: (_, o) => events.push(`updated ${o.metadata.name}`),
      deleted: (o) => events.push(`deleted ${o.metadata.name}`),
    });
    await informer.run(abort.signal);
    expect(informer.stats).toMatchObject({ lists: 2, gone: 1 });
    // Only the first list is the initial one: c appeared while running.
    expect(events).toEqual(['added a (initial)', 'added b (initial)', 'updated b', 'added c']);
    expect(cachedNames(informer)).toEqual(['a', 'b', 'c']);
  });
});

type ListQuery = Record<string, unknown>;

/** Runs an informer whose lists `answer` answers, until its first watch (from `watchFrom`). */
async function listThenWatch(answer: (query: ListQuery) => Promise<unknown>, watchFrom: string) {
  const queries: ListQuery[] = [];
  const abort = new AbortController();
  const client = {
    request: (_m: string, _p: string, options: { query: ListQuery }) => {
      queries.push(options.query);
      if (queries.length > 10) abort.abort(); // paging again and again: end the run
      return answer(options.query);
    },
    watch: (_p: string, query: ListQuery) => {
      expect(query.resourceVersion).toBe(watchFrom);
      abort.abort();
      return Promise.resolve('aborted' as const);
    },
  } as unknown as KubeClient;
  const informer = new Informer<Obj>({ name: 't', client, path: '/x', log: silentLogger });
  await informer.run(abort.signal);
  return { informer, pages: queries.map((q) => [q.limit, q.continue]) };
}

describe('Informer lists in pages', () => {
  it('asks for pages of at most 500 and follows continue tokens, so a large list is never one response', async () => {
    const pages: Record<
      string,
      { metadata: { resourceVersion: string; continue?: string }; items: Obj[] }
    > = {
      '': { metadata: { resourceVersion: '7', continue: 'p2' }, items: [obj('a', '1')] },
      p2: { metadata: { resourceVersion: '7', continue: 'p3' }, items: [obj('b', '2')] },
      p3: { metadata: { resourceVersion: '7' }, items: [obj('c', '3')] },
    };
    const { informer, pages: asked } = await listThenWatch(
      (query) => Promise.resolve(pages[(query.continue as string | undefined) ?? '']),
      '7',
    );
    expect(asked).toEqual([
      [500, undefined],
      [500, 'p2'],
      [500, 'p3'],
    ]);
    expect(cachedNames(informer)).toEqual(['a', 'b', 'c']);
  });
});

describe('Informer paged list under compaction', () => {
  it('falls back to one full list when a continue token expires (410 Gone), as client-go, instead of paging from the start forever', async () => {
    const { informer, pages } = await listThenWatch((query) => {
      // Every continue token has expired by the time it is used (etcd compacted meanwhile).
      if (query.continue)
        return Promise.reject(
          new KubeApiError(410, { reason: 'Expired', message: 'continue expired' }, 'GET'),
        );
      if (query.limit)
        return Promise.resolve({
          metadata: { resourceVersion: '7', continue: 'p2' },
          items: [obj('a', '1'), obj('gone', '2')],
        });
      return Promise.resolve({
        metadata: { resourceVersion: '9' },
        items: [obj('a', '1'), obj('b', '3'), obj('c', '4')],
      });
    }, '9');
    expect(pages).toEqual([
      [500, undefined],
      [500, 'p2'],
      [undefined, undefined],
    ]);
    // What the full list no longer has is not kept from the first page.
    expect(cachedNames(informer)).toEqual(['a', 'b', 'c']);
  });
});

describe('what the informer caches', () => {
  it('keeps every value, without managedFields and last-applied-configuration', async () => {
    const received = {
      apiVersion: 'integration.b2b.dev/v1alpha1',
      kind: 'Certificate',
      metadata: {
        name: 'a',
        namespace: 'ns',
        resourceVersion: '3',
        managedFields: [{ manager: 'kubectl' }],
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"big":true}',
          'integration.b2b.dev/x': 'y',
        },
        finalizers: ['integration.b2b.dev/finalizer'],
      },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready' }] },
    };
    const abort = new AbortController();
    const client = {
      request: () =>
        Promise.resolve({
          metadata: { resourceVersion: '3' },
          items: [structuredClone(received)],
        }),
      watch: () => {
        abort.abort();
        return Promise.resolve('aborted' as const);
      },
    } as unknown as KubeClient;
    const informer = new Informer<typeof received>({
      name: 't',
      client,
      path: '/x',
      log: silentLogger,
    });
    await informer.run(abort.signal);
    expect(informer.get('ns/a')).toEqual({
      ...received,
      metadata: {
        name: 'a',
        namespace: 'ns',
        resourceVersion: '3',
        annotations: { 'integration.b2b.dev/x': 'y' },
        finalizers: ['integration.b2b.dev/finalizer'],
      },
    });
  });
});

describe('Informer with emptyWhenNotServed, on a 404 after its first sync', () => {
  /** One list of `a`, a watch answered 404, the relist after it ends the run. */
  async function notFoundAfterSync(confirmNotServed: () => Promise<boolean>) {
    const abort = new AbortController();
    let lists = 0;
    const client = {
      request: () => {
        if (++lists > 1) abort.abort();
        return Promise.resolve({ metadata: { resourceVersion: '10' }, items: [obj('a', '1')] });
      },
      watch: () =>
        Promise.reject(
          new KubeApiError(404, { reason: 'NotFound', message: 'not found' }, 'WATCH'),
        ),
    } as unknown as KubeClient;
    const informer = new Informer<Obj>({
      name: 't',
      client,
      path: '/x',
      log: silentLogger,
      emptyWhenNotServed: true,
      confirmNotServed,
    });
    const deleted: string[] = [];
    informer.on({ deleted: (o) => deleted.push(o.metadata.name) });
    await informer.run(abort.signal);
    return deleted;
  }

  it('keeps its objects when the CRD is still there (a 404 while the API server starts up)', async () => {
    expect(await notFoundAfterSync(() => Promise.resolve(false))).toEqual([]);
  });

  it('keeps its objects when it cannot tell', async () => {
    expect(await notFoundAfterSync(() => Promise.reject(new Error('no answer')))).toEqual([]);
  });

  it('empties when the CRD is gone or being deleted', async () => {
    expect(await notFoundAfterSync(() => Promise.resolve(true))).toEqual(['a']);
  });
});
