// Kubernetes Events in integration tests. The operator sends events in the background through a
// bounded queue (src/operator/events.ts), so an event can arrive after the status write it
// explains: a test that lists events once, right after seeing a status, is flaky. These helpers
// poll instead; a failure names the events that were there.
import { EventType, resourcePath, type KubeClient } from '../../src/kube/client.ts';
import { eventually } from './cluster.ts';

/** The fields of a core/v1 Event that tests read. */
export interface KubeEvent {
  metadata: { name: string };
  involvedObject: { kind: string; name: string; namespace?: string; uid?: string };
  type: string;
  reason: string;
  message: string;
}

/** What an event must have to match; every field given must match. */
export interface EventMatch {
  /** involvedObject.kind, e.g. 'Certificate' or 'IntegrationAccount'. */
  kind?: string;
  /** involvedObject.name. */
  name?: string;
  reason?: string;
  type?: 'Normal' | 'Warning';
  /** A substring of the message, or a pattern it matches. */
  message?: string | RegExp;
}

export interface WaitForEventOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export async function listEvents(client: KubeClient, namespace: string): Promise<KubeEvent[]> {
  return (await client.list<{ items: KubeEvent[] }>(resourcePath(EventType, { namespace }))).items;
}

export function matchesEvent(event: KubeEvent, match: EventMatch): boolean {
  const { kind, name, reason, type, message } = match;
  if (kind !== undefined && event.involvedObject.kind !== kind) return false;
  if (name !== undefined && event.involvedObject.name !== name) return false;
  if (reason !== undefined && event.reason !== reason) return false;
  if (type !== undefined && event.type !== type) return false;
  if (typeof message === 'string') return event.message.includes(message);
  if (message instanceof RegExp) return message.test(event.message);
  return true;
}

function describeMatch(match: EventMatch): string {
  const fields = Object.entries(match).map(([k, v]) => `${k}=${String(v)}`);
  return fields.length > 0 ? fields.join(' ') : 'any event';
}

/** One line per event, for failure messages. */
function describeEvents(events: readonly KubeEvent[]): string {
  if (events.length === 0) return '  (none)';
  const shown = events.slice(0, 50).map((e) => {
    const message = e.message.length > 200 ? `${e.message.slice(0, 200)}…` : e.message;
    return `  ${e.involvedObject.kind}/${e.involvedObject.name} ${e.type} ${e.reason}: ${message}`;
  });
  if (events.length > shown.length) shown.push(`  … and ${events.length - shown.length} more`);
  return shown.join('\n');
}

/**
 * Polls the namespace's events until at least `count` match, and returns those that match.
 * For a repeated event (e.g. one StoreRestored per hand edit); most tests want `waitForEvent`.
 */
export async function waitForEvents(
  client: KubeClient,
  namespace: string,
  match: EventMatch,
  options: WaitForEventOptions & { count: number },
): Promise<KubeEvent[]> {
  const { count, timeoutMs = 30_000, intervalMs = 200 } = options;
  let seen: KubeEvent[] = [];
  const what = `${count} event(s) with ${describeMatch(match)} in ${namespace}`;
  try {
    return await eventually(
      async () => {
        seen = await listEvents(client, namespace);
        const found = seen.filter((e) => matchesEvent(e, match));
        return found.length >= count ? found : undefined;
      },
      what,
      timeoutMs,
      intervalMs,
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${reason}\nevents seen:\n${describeEvents(seen)}`);
  }
}

/** Polls the namespace's events until one matches, and returns it (to check its message). */
export async function waitForEvent(
  client: KubeClient,
  namespace: string,
  match: EventMatch,
  options: WaitForEventOptions = {},
): Promise<KubeEvent> {
  const [first] = await waitForEvents(client, namespace, match, { ...options, count: 1 });
  if (!first) throw new Error(`no event with ${describeMatch(match)}`); // unreachable: count 1
  return first;
}

/**
 * Fails if an event matching `match` appears within `quietMs`. An event may arrive late, so one
 * look right away proves nothing: this keeps looking for the whole quiet period. Call it after
 * the change whose side effects must not include such an event (and, where there is one, after
 * waiting for an event the same change does send).
 */
export async function expectNoEvent(
  client: KubeClient,
  namespace: string,
  match: EventMatch,
  options: { quietMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const { quietMs = 2_000, intervalMs = 200 } = options;
  const deadline = Date.now() + quietMs;
  for (;;) {
    const seen = await listEvents(client, namespace);
    const unwanted = seen.filter((e) => matchesEvent(e, match));
    if (unwanted.length > 0)
      throw new Error(
        `expected no event with ${describeMatch(match)} in ${namespace}, found:\n${describeEvents(unwanted)}\nall events:\n${describeEvents(seen)}`,
      );
    if (Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
