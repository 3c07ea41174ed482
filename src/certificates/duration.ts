// Go duration strings (the Kubernetes convention for durations in specs), e.g. 720h, 1h30m.

const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds of a Go duration string, or undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const part = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/gy;
  if (text.length === 0) return undefined;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(part)) {
    if (m.index !== consumed) return undefined;
    total += Number(m[1]) * unitMs[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === text.length ? total : undefined;
}
