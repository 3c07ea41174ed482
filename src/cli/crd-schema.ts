// The API server's checks of a custom resource at create time, from the CRDs in crds/:
// defaults, the structural schema (types, enums, required, sizes, patterns, unknown fields)
// and the x-kubernetes-validations CEL rules. Rules come from the CRD files, so a rule added
// there is checked here without new code.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compileRule, type CompiledRule } from './cel.ts';
import { isObject } from './input.ts';

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message?: string; fieldPath?: string }[];
}

export interface CustomResourceDefinition {
  group: string;
  kind: string;
  versions: Map<string, Schema>;
}

export interface SchemaError {
  /** JSON path of the field, e.g. spec.certificate. */
  field: string;
  message: string;
  /** The CEL rule that failed, when it was one. */
  rule?: string;
  /** The rule could not be evaluated here (a function b2b lacks): the API server decides. */
  unevaluated?: boolean;
}

export const crdDirectory = new URL('../../crds/', import.meta.url).pathname;

interface CrdManifest {
  kind?: string;
  spec?: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema?: { openAPIV3Schema?: Schema } }[];
  };
}

export function loadCrds(directory = crdDirectory): CustomResourceDefinition[] {
  return readdirSync(directory)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => parseYaml(readFileSync(join(directory, f), 'utf8')) as CrdManifest)
    .filter((crd) => crd.kind === 'CustomResourceDefinition' && crd.spec)
    .map(({ spec }) => ({
      group: spec!.group,
      kind: spec!.names.kind,
      versions: new Map(
        spec!.versions.map((v) => [v.name, v.schema?.openAPIV3Schema ?? { type: 'object' }]),
      ),
    }));
}

/** Every CEL rule of a schema with the field it sits on (for the test that each one fires). */
export function celRules(schema: Schema, field = ''): { field: string; rule: string }[] {
  const own = (schema['x-kubernetes-validations'] ?? []).map((v) => ({ field, rule: v.rule }));
  const children = [
    ...Object.entries(schema.properties ?? {}).map(([k, s]) => celRules(s, childField(field, k))),
    schema.items ? celRules(schema.items, `${field}[*]`) : [],
    isObject(schema.additionalProperties)
      ? celRules(schema.additionalProperties, `${field}[*]`)
      : [],
  ];
  return [...own, ...children.flat()];
}

/**
 * Validates `object` as the API server would on create; returns the defaulted object and the
 * errors. Transition rules (those using oldSelf) do not apply on create and are skipped.
 */
export function validateAgainstSchema(
  schema: Schema,
  object: unknown,
): { value: unknown; errors: SchemaError[] } {
  const errors: SchemaError[] = [];
  const value = withDefaults(schema, object);
  check(schema, value, '', errors);
  return { value, errors };
}

const childField = (field: string, key: string) => (field ? `${field}.${key}` : key);

/** Defaulting as the API server does it: before validation, nulls of non-nullable fields pruned. */
function withDefaults(schema: Schema, value: unknown): unknown {
  if (schema.type === 'object' && isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties?.[k] ?? additional(schema);
      if (v === null && !child?.nullable) continue;
      out[k] = child ? withDefaults(child, v) : v;
    }
    for (const [k, child] of Object.entries(schema.properties ?? {})) {
      if (out[k] === undefined && child.default !== undefined)
        out[k] = withDefaults(child, structuredClone(child.default));
    }
    return out;
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    const items = schema.items;
    return value.map((v) => withDefaults(items, v));
  }
  return value;
}

function additional(schema: Schema): Schema | undefined {
  return isObject(schema.additionalProperties) ? schema.additionalProperties : undefined;
}

const typeOf = (value: unknown): string => {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
};

function check(schema: Schema, value: unknown, field: string, errors: SchemaError[]): void {
  const at = field || '<root>';
  const actual = typeOf(value);
  const typeMatches =
    !schema.type || actual === schema.type || (schema.type === 'number' && actual === 'integer');
  if (!typeMatches) {
    errors.push({
      field: at,
      message: `Invalid value: "${actual}": must be of type ${schema.type}`,
    });
    return;
  }
  const before = errors.length;
  if (schema.enum && !schema.enum.includes(value)) {
    const allowed = schema.enum.map((e) => JSON.stringify(e)).join(', ');
    errors.push({
      field: at,
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed}`,
    });
  }
  if (typeof value === 'string') checkString(schema, value, at, errors);
  if (typeof value === 'number') checkNumber(schema, value, at, errors);
  if (Array.isArray(value)) checkArray(schema, value, field, errors);
  if (isObject(value)) checkObject(schema, value, field, errors);
  // The API server runs the CEL rules of a field whose own checks passed.
  if (errors.length === before) checkRules(schema, value, at, errors);
}

function checkString(schema: Schema, value: string, at: string, errors: SchemaError[]): void {
  const length = [...value].length; // characters, as the API server counts them
  if (schema.minLength !== undefined && length < schema.minLength)
    errors.push({
      field: at,
      message: `Invalid value: "${preview(value)}": should be at least ${schema.minLength} chars long`,
    });
  if (schema.maxLength !== undefined && length > schema.maxLength)
    errors.push({
      field: at,
      message: `Too long: may not be more than ${schema.maxLength} bytes`,
    });
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
    errors.push({
      field: at,
      message: `Invalid value: "${preview(value)}": should match '${schema.pattern}'`,
    });
}

function checkNumber(schema: Schema, value: number, at: string, errors: SchemaError[]): void {
  if (schema.minimum !== undefined && value < schema.minimum)
    errors.push({
      field: at,
      message: `Invalid value: ${value}: should be greater than or equal to ${schema.minimum}`,
    });
  if (schema.maximum !== undefined && value > schema.maximum)
    errors.push({
      field: at,
      message: `Invalid value: ${value}: should be less than or equal to ${schema.maximum}`,
    });
}

function checkArray(schema: Schema, value: unknown[], field: string, errors: SchemaError[]): void {
  const at = field || '<root>';
  if (schema.maxItems !== undefined && value.length > schema.maxItems)
    errors.push({
      field: at,
      message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
    });
  if (schema.minItems !== undefined && value.length < schema.minItems)
    errors.push({
      field: at,
      message: `Invalid value: ${value.length}: must have at least ${schema.minItems} items`,
    });
  const keys = schema['x-kubernetes-list-map-keys'];
  if (schema['x-kubernetes-list-type'] === 'map' && keys) {
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const key = JSON.stringify(keys.map((k) => (isObject(item) ? item[k] : undefined)));
      if (seen.has(key))
        errors.push({ field: `${field}[${i}]`, message: `Duplicate value: ${key}` });
      seen.add(key);
    });
  }
  if (schema.items) {
    const items = schema.items;
    value.forEach((item, i) => check(items, item, `${field}[${i}]`, errors));
  }
}

function checkObject(
  schema: Schema,
  value: Record<string, unknown>,
  field: string,
  errors: SchemaError[],
): void {
  const at = field || '<root>';
  for (const name of schema.required ?? []) {
    if (value[name] === undefined)
      errors.push({ field: childField(field, name), message: 'Required value' });
  }
  if (schema.maxProperties !== undefined && Object.keys(value).length > schema.maxProperties)
    errors.push({
      field: at,
      message: `Too many: ${Object.keys(value).length}: must have at most ${schema.maxProperties} items`,
    });
  const open =
    schema['x-kubernetes-preserve-unknown-fields'] === true ||
    schema.additionalProperties === true ||
    (schema.properties === undefined && schema.additionalProperties === undefined);
  for (const [name, child] of Object.entries(value)) {
    const childSchema = schema.properties?.[name] ?? additional(schema);
    if (childSchema) check(childSchema, child, childField(field, name), errors);
    else if (!open) errors.push({ field: childField(field, name), message: 'unknown field' });
  }
}

const compiled = new Map<string, CompiledRule>();

function checkRules(schema: Schema, value: unknown, at: string, errors: SchemaError[]): void {
  for (const validation of schema['x-kubernetes-validations'] ?? []) {
    let rule = compiled.get(validation.rule);
    if (!rule) compiled.set(validation.rule, (rule = compileRule(validation.rule)));
    if (rule.transition) continue; // compares with oldSelf: only on update
    const verdict = rule.evaluate(value, schema);
    if (verdict === true) continue;
    const field = validation.fieldPath ? `${at}${validation.fieldPath}` : at;
    errors.push(
      verdict === false
        ? {
            field,
            message: `Invalid value: "${typeOf(value)}": ${validation.message ?? `failed rule: ${validation.rule}`}`,
            rule: validation.rule,
          }
        : {
            field,
            message: `the rule ${validation.rule} is checked at apply time (b2b cannot evaluate it: ${verdict.error})`,
            rule: validation.rule,
            unevaluated: true,
          },
    );
  }
}

function preview(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}
