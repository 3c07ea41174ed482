// Kubernetes Events for transitions (`Normal Synced`, `Warning <Reason>`). Best effort: an
// event that cannot be written is logged, never fails a reconcile. Like client-go's broadcaster,
// `emit` sends in the background: a reconcile does not wait a round trip for its events.
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

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly component: string;
  /** Per involved object, the last event still being sent: its events go out in order. */
  private readonly sending = new Map<string, Promise<void>>();

  constructor(client: KubeClient, log: Logger, component = 'b2b-certificate-operator') {
    this.client = client;
    this.log = log;
    this.component = component;
  }

  /** Sends in the background, after the object's earlier events; `flush` waits for them all. */
  emit(object: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    const previous = this.sending.get(key) ?? Promise.resolve();
    const sent = previous.then(() => this.record(object, type, reason, message));
    this.sending.set(key, sent);
    void sent.then(() => {
      if (this.sending.get(key) === sent) this.sending.delete(key);
    });
  }

  /** Resolves once every event emitted so far has been sent (or failed). */
  async flush(): Promise<void> {
    while (this.sending.size) await Promise.all(this.sending.values());
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
