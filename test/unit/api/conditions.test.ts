import { describe, expect, it } from 'vitest';
import { mergeConditions } from '../../../src/api/conditions.ts';

const now = new Date('2026-02-01T00:00:00Z');
const foreign = {
  type: 'example.com/Audited',
  status: 'True' as const,
  reason: 'Reviewed',
  message: 'reviewed',
  lastTransitionTime: '2026-01-01T00:00:00Z',
  observedGeneration: 1,
};

describe('mergeConditions', () => {
  it("keeps other writers' conditions as they are, after the operator's own", () => {
    const merged = mergeConditions(
      [
        foreign,
        { ...foreign, type: 'Stalled', reason: 'QuotaExceeded' },
        { ...foreign, type: 'Ready', status: 'False', reason: 'QuotaExceeded' },
      ],
      [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }],
      2,
      now,
    );
    // Stalled is the operator's own type: no longer desired, so it goes; Ready changed.
    expect(merged.map((c) => c.type)).toEqual(['Ready', 'example.com/Audited']);
    expect(merged[0]).toMatchObject({ status: 'True', lastTransitionTime: '2026-02-01T00:00:00Z' });
    expect(merged[1]).toEqual(foreign);
  });

  it('keeps the transition time of a condition whose status holds', () => {
    const [ready] = mergeConditions(
      [{ ...foreign, type: 'Ready', status: 'True', reason: 'Ready' }],
      [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'still' }],
      3,
      now,
    );
    expect(ready).toMatchObject({
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 3,
    });
  });
});
