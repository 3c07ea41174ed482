// Every hostile certificate source gets its verdict quickly: a parser that is quadratic in its
// input (or worse) blocks the operator's only thread, and every other certificate waits.
import { describe, expect, it } from 'vitest';
import { verifyCertificateSource } from '../../../src/certificates/checks.ts';
import { hostileSources } from '../../support/hostile-cases.ts';

// Generous for a loaded 2-core machine; the quadratic PEM scan took 26 s on 1 MiB.
const BOUND_MS = 1_000;
// Reasons that need the vault or the store; the parser and checks pass such certificates.
const laterReasons = new Set(['Ready', 'KeyMismatch']);

describe('hostile certificate sources', () => {
  it.each(hostileSources.map((c) => [c.name, c] as const))(
    '%s: a verdict within the bound',
    (_, c) => {
      const started = performance.now();
      const verdict = verifyCertificateSource(c.source, c.type ?? 'Public', new Date());
      const ms = performance.now() - started;
      expect(ms, `${c.what}: ${Math.round(ms)} ms`).toBeLessThan(BOUND_MS);
      const reason = verdict.ok ? 'Ready' : verdict.failure.reason;
      expect(reason, c.what).toBe(laterReasons.has(c.reason) ? 'Ready' : c.reason);
      if (!verdict.ok) expect(verdict.failure.message.length).toBeLessThan(32_768);
    },
  );
});
