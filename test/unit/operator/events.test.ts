// Events sent in the background: a reconcile does not wait for them, one object's events keep
// their order, a failed one is only logged, and flush() waits for all of them.
import { describe, expect, it } from 'vitest';
import type { KubeClient } from '../../../src/kube/client.ts';
import { EventRecorder } from '../../../src/operator/events.ts';
import { createLogger } from '../../../src/operator/log.ts';

const object = (name: string) => ({
  apiVersion: 'integration.b2b.dev/v1alpha1',
  kind: 'Certificate',
  metadata: { name, namespace: 'ns' },
});

function slowClient() {
  const sent: string[] = [];
  const pending: (() => void)[] = [];
  const client = {
    create: (_path: string, body: { reason: string; involvedObject: { name: string } }) =>
      new Promise<void>((resolve, reject) => {
        pending.push(() => {
          if (body.reason === 'Broken') return reject(new Error('refused'));
          sent.push(`${body.involvedObject.name} ${body.reason}`);
          resolve();
        });
      }),
  } as unknown as KubeClient;
  const answerAll = async () => {
    while (pending.length) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { client, sent, pending, answerAll };
}

describe('EventRecorder.emit', () => {
  it('returns before the event is sent, keeps one object’s order, and flush waits for all', async () => {
    const { client, sent, pending, answerAll } = slowClient();
    const logged: string[] = [];
    const recorder = new EventRecorder(
      client,
      createLogger('warn', {}, (line) => logged.push(line)),
    );
    recorder.emit(object('a'), 'Normal', 'Synced', 'm');
    recorder.emit(object('a'), 'Warning', 'Broken', 'm');
    recorder.emit(object('a'), 'Warning', 'ExpiresSoon', 'm');
    recorder.emit(object('b'), 'Normal', 'Synced', 'm');
    await new Promise((r) => setImmediate(r));
    // a's second event waits for its first; b's goes out beside it.
    expect(pending).toHaveLength(2);
    expect(sent).toEqual([]);
    let flushed = false;
    const flushing = recorder.flush().then(() => (flushed = true));
    await answerAll();
    await flushing;
    expect(flushed).toBe(true);
    expect(sent.filter((s) => s.startsWith('a '))).toEqual(['a Synced', 'a ExpiresSoon']);
    expect(sent).toContain('b Synced');
    expect(logged.join('\n')).toMatch(/could not record event.*Broken/);
  });
});

describe('EventRecorder: bounded', () => {
  const never = () => {
    let inFlight = 0;
    let peak = 0;
    const client = {
      create: () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        return new Promise(() => {});
      },
    } as unknown as KubeClient;
    return { client, peak: () => peak };
  };

  it('sends at most a few at once and keeps at most maxPending waiting, dropping the oldest', async () => {
    const { client, peak } = never();
    const dropped: number[] = [];
    const recorder = new EventRecorder(
      client,
      createLogger('error', {}, () => {}),
      {
        senders: 4,
        maxPending: 1000,
        onDrop: () => dropped.push(1),
      },
    );
    for (let i = 0; i < 10_000; i++) recorder.emit(object(`c${i}`), 'Warning', 'Unreachable', 'm');
    await new Promise((r) => setImmediate(r));
    expect(peak()).toBeLessThanOrEqual(4);
    expect(recorder.pending).toBeLessThanOrEqual(1000);
    expect(dropped.length).toBe(10_000 - 4 - 1000);
  });

  it('flush gives up when its signal aborts (the shutdown deadline)', async () => {
    const { client } = never();
    const recorder = new EventRecorder(
      client,
      createLogger('error', {}, () => {}),
    );
    recorder.emit(object('a'), 'Normal', 'Synced', 'm');
    const deadline = new AbortController();
    const flushing = recorder.flush(deadline.signal);
    deadline.abort();
    await expect(flushing).resolves.toBeUndefined();
  });
});
