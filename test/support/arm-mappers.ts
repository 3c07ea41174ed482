// Strict validation of ARM bodies against the Azure SDKs' own generated mappers (the models
// AutoRest generated from Microsoft's published REST specs): an unknown property, a missing
// required one, a read-only one sent in a request, or a value of the wrong type is an error.
// The SDK's serializer itself is lenient (it drops what it does not know); this is not.
import * as authorizationMappers from '@azure/arm-authorization/dist-esm/src/models/mappers.js';
import * as logicMappers from '@azure/arm-logic/dist-esm/src/models/mappers.js';

interface MapperType {
  name: string;
  className?: string;
  modelProperties?: Record<string, Mapper>;
  value?: Mapper;
  element?: Mapper;
  allowedValues?: unknown[];
}
interface Mapper {
  serializedName?: string;
  required?: boolean;
  readOnly?: boolean;
  constraints?: { Pattern?: RegExp; MaxLength?: number; MinLength?: number };
  type: MapperType;
}

type Catalogue = Record<string, Mapper | undefined>;
const catalogues: Record<'logic' | 'authorization', Catalogue> = {
  logic: logicMappers as unknown as Catalogue,
  authorization: authorizationMappers as unknown as Catalogue,
};

/** A flattened model: `properties.key` in serializedName means body.properties.key. */
interface Node {
  children: Map<string, Node>;
  leaf?: Mapper;
  required: boolean;
}

const segments = (serializedName: string): string[] =>
  serializedName.split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'));

function tree(modelProperties: Record<string, Mapper>): Node {
  const root: Node = { children: new Map(), required: false };
  for (const mapper of Object.values(modelProperties)) {
    if (!mapper.serializedName) continue;
    let node = root;
    for (const segment of segments(mapper.serializedName)) {
      let child = node.children.get(segment);
      if (!child) {
        child = { children: new Map(), required: false };
        node.children.set(segment, child);
      }
      if (mapper.required) child.required = true;
      node = child;
    }
    node.leaf = mapper;
  }
  return root;
}

export interface Validation {
  /** A request body: read-only properties must not be sent. */
  request: boolean;
}

export class MapperValidator {
  private readonly catalogue: Catalogue;
  constructor(sdk: keyof typeof catalogues) {
    this.catalogue = catalogues[sdk];
  }

  /** The errors of `body` against the model `className`; empty when it conforms. */
  validate(className: string, body: unknown, options: Validation): string[] {
    const mapper = this.catalogue[className];
    if (!mapper) throw new Error(`no mapper ${className} in the SDK`);
    const errors: string[] = [];
    this.value(mapper, body, className, options, errors);
    return errors;
  }

  /**
   * A small request body of `className` that validates: every required property with a plain
   * value (the first allowed value of an enum, false, 0, `x`), and every nested object (the
   * mappers mark few of those required that ARM requires, e.g. an agreement's protocolSettings;
   * and the SDK's own types require them). Tests set what they test
   * on top (an agreement's certificates), so that planted objects are shaped as ARM takes them.
   */
  sample(className: string): Record<string, unknown> {
    const mapper = this.catalogue[className];
    if (!mapper) throw new Error(`no mapper ${className} in the SDK`);
    return this.sampleValue(mapper) as Record<string, unknown>;
  }

  private sampleValue(mapper: Mapper): unknown {
    const t = mapper.type;
    switch (t.name) {
      case 'String':
        return 'x';
      case 'Uuid':
        return '00000000-0000-0000-0000-000000000000';
      case 'Number':
      case 'UnixTime':
        return 0;
      case 'Boolean':
        return false;
      case 'DateTime':
      case 'Date':
      case 'DateTimeRfc1123':
        return '2026-01-01T00:00:00Z';
      case 'Enum':
        return t.allowedValues?.[0];
      case 'Sequence':
        return [];
      case 'Dictionary':
        return {};
      case 'Composite':
        return this.sampleNode(tree(this.modelOf(t)));
      default:
        return {};
    }
  }

  private sampleNode(node: Node, depth = 0): Record<string, unknown> {
    if (depth > 12) throw new Error('sample: the model nests too deep (a cycle?)');
    const body: Record<string, unknown> = {};
    for (const [key, child] of node.children) {
      if (child.leaf?.readOnly) continue;
      const nested = !child.leaf || child.leaf.type.name === 'Composite';
      if (!child.required && !nested) continue;
      body[key] =
        child.leaf?.type.name === 'Composite'
          ? this.sampleNode(tree(this.modelOf(child.leaf.type)), depth + 1)
          : child.leaf
            ? this.sampleValue(child.leaf)
            : this.sampleNode(child, depth + 1);
    }
    return body;
  }

  private modelOf(type: MapperType): Record<string, Mapper> {
    if (type.modelProperties) return type.modelProperties;
    const named = type.className ? this.catalogue[type.className] : undefined;
    if (!named?.type.modelProperties) throw new Error(`no model ${type.className ?? '?'}`);
    return named.type.modelProperties;
  }

  private value(
    mapper: Mapper,
    value: unknown,
    path: string,
    options: Validation,
    errors: string[],
  ): void {
    if (value === undefined || value === null) return;
    if (options.request && mapper.readOnly) {
      errors.push(`${path}: read-only, must not be sent`);
      return;
    }
    const t = mapper.type;
    const fail = (what: string) =>
      errors.push(`${path}: expected ${what}, got ${JSON.stringify(value)}`);
    switch (t.name) {
      case 'String':
        if (typeof value !== 'string') return void fail('a string');
        if (mapper.constraints?.Pattern && !mapper.constraints.Pattern.test(value))
          fail(`a match of ${String(mapper.constraints.Pattern)}`);
        return;
      case 'Uuid':
        if (typeof value !== 'string' || !/^[0-9a-f-]{36}$/i.test(value)) fail('a UUID');
        return;
      case 'Number':
      case 'UnixTime':
        if (typeof value !== 'number') fail('a number');
        return;
      case 'Boolean':
        if (typeof value !== 'boolean') fail('a boolean');
        return;
      case 'DateTime':
      case 'Date':
      case 'DateTimeRfc1123':
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail('a date-time');
        return;
      case 'Enum':
        if (!t.allowedValues?.includes(value)) fail(`one of ${JSON.stringify(t.allowedValues)}`);
        return;
      case 'Sequence':
        if (!Array.isArray(value)) return void fail('an array');
        value.forEach((v, i) => this.value(t.element!, v, `${path}[${i}]`, options, errors));
        return;
      case 'Dictionary':
        if (typeof value !== 'object' || Array.isArray(value)) return void fail('an object');
        for (const [k, v] of Object.entries(value))
          this.value(t.value!, v, `${path}.${k}`, options, errors);
        return;
      case 'Composite':
        this.node(tree(this.modelOf(t)), value, path, options, errors);
        return;
      default: // any, Object, Stream: free-form
        return;
    }
  }

  private node(
    node: Node,
    value: unknown,
    path: string,
    options: Validation,
    errors: string[],
  ): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push(`${path}: expected an object, got ${JSON.stringify(value)}`);
      return;
    }
    const record = value as Record<string, unknown>;
    for (const [key, v] of Object.entries(record)) {
      const child = node.children.get(key);
      if (!child) {
        errors.push(`${path}.${key}: unknown property`);
        continue;
      }
      if (child.leaf) this.value(child.leaf, v, `${path}.${key}`, options, errors);
      else this.node(child, v, `${path}.${key}`, options, errors);
    }
    for (const [key, child] of node.children) {
      const readOnlyInRequest = options.request && child.leaf?.readOnly;
      if (child.required && !readOnlyInRequest && record[key] === undefined)
        errors.push(`${path}.${key}: required, missing`);
    }
  }
}
