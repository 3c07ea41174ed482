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
