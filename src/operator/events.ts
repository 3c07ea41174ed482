// Kubernetes Events for transitions (`Normal Synced`, `Warning <Reason>`). Best effort: an
// event that cannot be written is logged, never fails a reconcile. Like client-go's broadcaster,
// `emit` sends in the background through a bounded queue: a reconcile does not wait a round trip
// for its events, and a burst (every certificate failing at once while the API server is slow)
// neither opens thousands of requests nor holds thousands of events; the oldest are dropped.
import { EventType, resourcePath, type KubeClient } from '../kube/client.ts';
import { errorMessage, type Logger } from './log.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string | undefined;
    resourceVersion?: string | undefined;
  };
}

export interface EventRecorderOptions {
  component?: string;
  /** Events sent at once. */
  senders?: number;
  /** Events waiting to be sent; beyond it the oldest is dropped. */
  maxPending?: number;
  /** Called for each dropped event (the b2b_events_dropped_total metric). */
  onDrop?: () => void;
}

interface PendingEvent {
  key: string;
  object: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly component: string;
  private readonly senders: number;
  private readonly maxPending: number;
  private readonly onDrop: () => void;
  /** Oldest first. */
  private readonly queue: PendingEvent[] = [];
  /** Objects with an event being sent: their next one waits for it, so each keeps its order. */
  private readonly sending = new Set<string>();
  private idle: (() => void)[] = [];

  constructor(client: KubeClient, log: Logger, options: EventRecorderOptions = {}) {
    this.client = client;
    this.log = log;
    this.component = options.component ?? 'b2b-certificate-operator';
    this.senders = options.senders ?? 4;
    this.maxPending = options.maxPending ?? 1000;
    this.onDrop = options.onDrop ?? (() => {});
  }

  /** Events waiting to be sent (not counting those being sent). */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues the event, after the object's earlier ones; `flush` waits for them all. */
  emit(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.queue.length >= this.maxPending) {
      const dropped = this.queue.shift();
      this.onDrop();
      this.log.debug('event dropped: too many waiting', {
        kind: dropped?.object.kind,
        name: dropped?.object.metadata.name,
        namespace: dropped?.object.metadata.namespace,
        reason: dropped?.reason,
      });
    }
    const key = `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
    this.queue.push({ key, object, type, reason, message });
    this.sendNext();
  }

  /**
   * Resolves once every event emitted so far has been sent (or failed), or when `signal`
   * aborts (the shutdown deadline): what is still waiting then is given up.
   */
  async flush(signal?: AbortSignal): Promise<void> {
    if (this.isIdle() || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.idle.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.sending.size === 0;
  }

  /** Starts the oldest events whose objects have none in flight, up to `senders` at once. */
  private sendNext(): void {
    while (this.sending.size < this.senders) {
      const index = this.queue.findIndex((e) => !this.sending.has(e.key));
      if (index < 0) break;
      const [next] = this.queue.splice(index, 1);
      if (!next) break;
      this.sending.add(next.key);
      void this.record(next.object, next.type, next.reason, next.message).finally(() => {
        this.sending.delete(next.key);
        this.sendNext();
      });
    }
    if (this.isIdle()) {
      const waiting = this.idle;
      this.idle = [];
      for (const resolve of waiting) resolve();
    }
  }

  async record(
    object: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date().toISOString();
    const { name, namespace, uid, resourceVersion } = object.metadata;
    try {
      await this.client.create(resourcePath(EventType, { namespace }), {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name,
          namespace,
          uid,
          resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err) {
      this.log.warn('could not record event', {
        kind: object.kind,
        name,
        namespace,
        reason,
        error: errorMessage(err),
      });
    }
  }
}
