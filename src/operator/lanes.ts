// Which work-queue lane a certificate goes to when something it depends on changes: background
// (a fan-out, a recheck), unless the change is what the certificate waits for.
import { findCondition } from '../api/conditions.ts';
import { Reason } from '../api/reasons.ts';
import type { Certificate } from '../api/types.ts';
import type { Lane } from '../runtime/workqueue.ts';

const readyReason = (c: Certificate): string | undefined =>
  findCondition(c.status?.conditions, 'Ready')?.reason;

const accountReasons: readonly string[] = [
  Reason.IntegrationAccountNotFound,
  Reason.IntegrationAccountNotReady,
];

/** An account changed: urgent for the certificates that wait for it. */
export const accountChangeLane = (c: Certificate): Lane =>
  accountReasons.includes(readyReason(c) ?? '') ? 'urgent' : 'background';

/**
 * The Secret a certificate stores into changed: deleting the Secret it conflicted with lets it
 * sync right away (docs/API.md), so that one is urgent.
 */
export const storeSecretLane = (c: Certificate, deleted: boolean): Lane =>
  deleted && readyReason(c) === Reason.StoreConflict ? 'urgent' : 'background';
