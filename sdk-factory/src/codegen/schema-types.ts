// JSON Schema (the manifest's 2020-12 vocabulary, with OpenAPI 3.0 leftovers such as `nullable`) to
// TypeScript type expressions. Emitted types use only keywords, literals, object and tuple literals and
// `T[]`, never a global generic (`Array`, `Record`), so a schema named `Array` cannot change what they mean.
import { docComment, propertyKey, stringLiteral } from './emit-text';

/** Deeper inline schemas become `unknown`: bounded output for a spec of any shape. */
export const MAX_SCHEMA_DEPTH = 48;

type SchemaObject = { readonly [keyword: string]: unknown };

export interface TypeContext {
  /** The type expression for a manifest reference (`#/schemas/<name>`), or undefined when it names nothing. */
  reference(ref: string): string | undefined;
  /**
   * True when a reference in a direct position (not under a property or an item) would make the named
   * type being emitted alias itself (`type A = A | string`), which TypeScript refuses.
   */
  closesAliasCycle(ref: string): boolean;
  /** Whether to emit property descriptions as JSDoc. */
  readonly docs: boolean;
}

function isObject(value: unknown): value is SchemaObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const SIMPLE = /^(?:[A-Za-z_$][\w$.]*|-?\d[\w.+-]*|"(?:[^"\\]|\\.)*")$/;

function group(type: string): string {
  return SIMPLE.test(type) ? type : `(${type})`;
}

export function union(types: readonly string[]): string {
  const members = [...new Set(types)];
  if (members.includes('unknown')) return 'unknown';
  const filtered = members.length > 1 ? members.filter((member) => member !== 'never') : members;
  if (filtered.length === 0) return 'never';
  return filtered.length === 1 ? (filtered[0] ?? 'never') : filtered.map(group).join(' | ');
}

function intersection(types: readonly string[]): string {
  const members = [...new Set(types)].filter((member) => member !== 'unknown');
  if (members.length === 0) return 'unknown';
  return members.length === 1 ? (members[0] ?? 'unknown') : members.map(group).join(' & ');
}

export function literalType(value: unknown): string {
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'number';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  return 'unknown';
}

/** The type of a schema; `direct` is true until the walk enters a property, an item or a value. */
export function schemaType(schema: unknown, context: TypeContext, depth = 0, direct = true): string {
  if (schema === undefined || schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (!isObject(schema) || depth > MAX_SCHEMA_DEPTH) return 'unknown';
  const core = coreType(schema, context, depth, direct);
  return schema['nullable'] === true ? union([core, 'null']) : core;
}

function coreType(schema: SchemaObject, context: TypeContext, depth: number, direct: boolean): string {
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    if (direct && context.closesAliasCycle(ref)) return 'unknown';
    return context.reference(ref) ?? 'unknown';
  }
  if ('const' in schema) return literalType(schema['const']);
  if (Array.isArray(schema['enum'])) return union(schema['enum'].map(literalType));
  const parts: string[] = [];
  const own = structuralType(schema, context, depth);
  if (own !== undefined) parts.push(own);
  const next = (sub: unknown): string => schemaType(sub, context, depth + 1, direct);
  if (Array.isArray(schema['allOf'])) parts.push(...schema['allOf'].map(next));
  for (const keyword of ['oneOf', 'anyOf']) {
    const alternatives = schema[keyword];
    if (Array.isArray(alternatives) && alternatives.length > 0) parts.push(union(alternatives.map(next)));
  }
  return intersection(parts);
}

/** The type from `type` (or implied by `properties` / `items`), or undefined when the schema names none. */
function structuralType(schema: SchemaObject, context: TypeContext, depth: number): string | undefined {
  const declared = schema['type'];
  let types: string[];
  if (typeof declared === 'string') types = [declared];
  else if (Array.isArray(declared)) types = declared.filter((type): type is string => typeof type === 'string');
  else if (isObject(schema['properties']) || 'additionalProperties' in schema) types = ['object'];
  else if ('items' in schema || 'prefixItems' in schema) types = ['array'];
  else return undefined;
  return union(
    types.map((type) => {
      switch (type) {
        case 'string':
          return 'string';
        case 'number':
        case 'integer':
          return 'number';
        case 'boolean':
          return 'boolean';
        case 'null':
          return 'null';
        case 'array':
          return arrayType(schema, context, depth);
        case 'object':
          return objectType(schema, context, depth);
        default:
          return 'unknown';
      }
    }),
  );
}

function arrayType(schema: SchemaObject, context: TypeContext, depth: number): string {
  const nested = (sub: unknown): string => schemaType(sub, context, depth + 1, false);
  const items = schema['items'];
  const tuple = Array.isArray(schema['prefixItems']) ? schema['prefixItems'] : Array.isArray(items) ? items : undefined;
  if (tuple !== undefined) {
    const rest = Array.isArray(items) ? schema['additionalItems'] : items;
    const restType = rest === false ? '' : `...${group(nested(rest))}[]`;
    return `[${[...tuple.map((item) => `(${nested(item)})?`), restType].filter((part) => part !== '').join(', ')}]`;
  }
  return `${group(nested(items))}[]`;
}

function objectType(schema: SchemaObject, context: TypeContext, depth: number): string {
  const properties = isObject(schema['properties']) ? schema['properties'] : {};
  const required = new Set(
    Array.isArray(schema['required']) ? schema['required'].filter((name) => typeof name === 'string') : [],
  );
  const indent = '  '.repeat(Math.min(depth, 24) + 1);
  const members: string[] = [];
  for (const name of Object.keys(properties)) {
    const property = properties[name];
    const doc =
      context.docs && isObject(property)
        ? docComment([typeof property['description'] === 'string' ? property['description'] : undefined], indent)
        : '';
    const optional = required.has(name) ? '' : '?';
    members.push(
      `${doc}${indent}${propertyKey(name)}${optional}: ${schemaType(property, context, depth + 1, false)};\n`,
    );
  }
  const additional = schema['additionalProperties'];
  const hasPatterns = isObject(schema['patternProperties']);
  if (additional !== undefined && additional !== false) {
    // With declared properties the index signature must admit their types too: `unknown` is the honest bound.
    const value = members.length > 0 || hasPatterns ? 'unknown' : schemaType(additional, context, depth + 1, false);
    members.push(`${indent}[key: string]: ${value};\n`);
  } else if (members.length === 0) {
    members.push(`${indent}[key: string]: ${additional === false ? 'never' : 'unknown'};\n`);
  }
  return `{\n${members.join('')}${'  '.repeat(Math.min(depth, 24))}}`;
}
