// CEL rules (x-kubernetes-validations) evaluated with @marcbachmann/cel-js, a maintained CEL
// implementation for JavaScript with the macros (has, all, exists, filter, map) and the string
// functions (size, matches, startsWith, endsWith, contains, lowerAscii, split, ...) the rules
// use, plus the few Kubernetes library functions it lacks that are cheap to mirror. A rule it
// cannot evaluate (e.g. quantity() or ip()) is reported as checked at apply time, not as a fault.

/** The environment of x-kubernetes-validations: `self` of any type, optionals on. */
const kubernetes = new Environment({
  unlistedVariablesAreDyn: true,
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
})
  .registerFunction(
    'string.replace(string, string): string',
    (s: string, from: string, to: string) => s.split(from).join(to),
  )
  .registerFunction('string.charAt(int): string', (s: string, i: bigint) => [...s][Number(i)] ?? '')
  .registerFunction('isURL(string): bool', (s: string) => URL.canParse(s));
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import type { Schema } from './crd-schema.ts';
import { isObject } from './input.ts';

export interface CompiledRule {
  /** Uses oldSelf: a transition rule, checked by the API server on update only. */
  transition: boolean;
  /** true = the rule holds; false = violated; error = could not be evaluated. */
  evaluate(self: unknown, schema: Schema): boolean | { error: string };
}

export function compileRule(rule: string): CompiledRule {
  let program: ReturnType<typeof kubernetes.parse>;
  try {
    program = kubernetes.parse(rule);
  } catch (err) {
    const error = (err as Error).message;
    return { transition: false, evaluate: () => ({ error }) };
  }
  return {
    transition: mentions(program.ast, 'oldSelf'),
    evaluate(self, schema) {
      try {
        const result: unknown = program({ self: toCel(self, schema) });
        return result === true
          ? true
          : result === false
            ? false
            : { error: `not a bool: ${String(result)}` };
      } catch (err) {
        return { error: (err as Error).message };
      }
    },
  };
}

function mentions(node: unknown, identifier: string): boolean {
  if (Array.isArray(node)) return node.some((n) => mentions(n, identifier));
  if (typeof node !== 'object' || node === null) return false;
  const { op, args } = node as ASTNode;
  if (op === 'id') return args === identifier;
  return mentions(args, identifier);
}

/** JSON to CEL values: schema integers are CEL ints (BigInt in cel-js). */
function toCel(value: unknown, schema: Schema | undefined): unknown {
  if (typeof value === 'number' && schema?.type === 'integer') return BigInt(value);
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema?.items));
  if (isObject(value)) {
    const extra = isObject(schema?.additionalProperties)
      ? (schema.additionalProperties as Schema)
      : undefined;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, toCel(v, schema?.properties?.[k] ?? extra)]),
    );
  }
  return value;
}
