// Conditions the Kubernetes way: lastTransitionTime moves only when status changes, every
// condition carries the generation it describes, and abnormal-true conditions (Reconciling,
// Stalled) are left out when they do not hold, as kstatus expects.
import { isDeepStrictEqual } from 'node:util';
import { ConditionType } from './reasons.ts';
import type { Condition } from './types.ts';

const ownTypes: ReadonlySet<string> = new Set(Object.values(ConditionType));

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * The conditions to write: `desired` in order, keeping transition times that still hold, then
 * the conditions of types this operator never writes, as they are: other writers own those.
 */
export function mergeConditions(
  current: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number,
  now: Date,
): Condition[] {
  const others = (current ?? []).filter((c) => !ownTypes.has(c.type));
  const own = desired.map((d) => {
    const previous = findCondition(current, d.type);
    const lastTransitionTime =
      previous && previous.status === d.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      type: d.type,
      status: d.status,
      observedGeneration: generation,
      lastTransitionTime,
      reason: d.reason,
      message: d.message,
    };
  });
  return [...own, ...others];
}

/** JSON-normal form: what the API server would store (undefined fields dropped). */
export function normalize<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * A merge patch that makes the status `desired`: a field the current status has and the
 * desired one does not is sent as null (a merge patch keeps what it does not name).
 */
export function statusPatch(current: object | undefined, desired: object): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...normalize(desired) };
  const was = (current ?? {}) as Record<string, unknown>;
  for (const field of Object.keys(was)) {
    if (!(field in patch)) patch[field] = null;
    // Nested objects are merged too: a field gone from one (status.store.adopted) is nulled.
    else if (isObject(was[field]) && isObject(patch[field]))
      patch[field] = statusPatch(was[field], patch[field]);
  }
  return patch;
}

const isObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function sameStatus(current: unknown, desired: unknown): boolean {
  return isDeepStrictEqual(normalize(current ?? {}), normalize(desired ?? {}));
}
