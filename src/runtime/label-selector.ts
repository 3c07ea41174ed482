// Kubernetes label selectors as kubectl and the API server read them (`a=b`, `a==b`, `a!=b`,
// `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, comma-separated, all must hold): parsed once at
// start-up so that a typo stops the operator with a message instead of a watch that 400s, and
// matched in memory for the objects the operator reads unfiltered (IntegrationAccounts).

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: readonly string[] }
  | { key: string; op: 'exists' | '!exists' };

export interface LabelSelector {
  readonly text: string;
  readonly requirements: readonly Requirement[];
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

export class LabelSelectorError extends Error {}

/** Splits at the commas that are not inside `( )`. */
function clauses(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((c) => c.trim());
}

function checkKey(key: string, clause: string): string {
  if (!KEY.test(key)) throw new LabelSelectorError(`invalid label key "${key}" in "${clause}"`);
  return key;
}

function checkValue(value: string, clause: string): string {
  if (!VALUE.test(value))
    throw new LabelSelectorError(`invalid label value "${value}" in "${clause}"`);
  return value;
}

function parseClause(clause: string): Requirement {
  let m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(clause);
  if (m) {
    const key = checkKey(m[1]!, clause);
    const values = [checkValue(m[3]!, clause)];
    return { key, op: m[2] === '!=' ? 'notin' : 'in', values };
  }
  m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(clause);
  if (m) {
    const values = m[3]!.split(',').map((v) => checkValue(v.trim(), clause));
    return { key: checkKey(m[1]!, clause), op: m[2] as 'in' | 'notin', values };
  }
  m = /^(!?)\s*(\S+)$/.exec(clause);
  if (m) return { key: checkKey(m[2]!, clause), op: m[1] ? '!exists' : 'exists' };
  throw new LabelSelectorError(`cannot read "${clause}"`);
}

/** Throws LabelSelectorError naming the part it cannot read. Empty text selects everything. */
export function parseLabelSelector(text: string): LabelSelector {
  const trimmed = text.trim();
  if (!trimmed) return { text: '', requirements: [] };
  return { text: trimmed, requirements: clauses(trimmed).map(parseClause) };
}

export function matchesLabels(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return selector.requirements.every((r) => {
    const value = labels?.[r.key];
    switch (r.op) {
      case 'exists':
        return value !== undefined;
      case '!exists':
        return value === undefined;
      case 'in':
        return value !== undefined && r.values.includes(value);
      case 'notin':
        return value === undefined || !r.values.includes(value);
    }
  });
}
