import type { JsonSchemaValue } from '../manifest';
import { escapeToken, refTokens, resolveTokens, setOwn } from './json-pointer';
import type { Budget } from './budget';

/** Keywords whose value is one subschema. */
const ONE = [
  'items',
  'additionalProperties',
  'not',
  'contains',
  'if',
  'then',
  'else',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'additionalItems',
  'contentSchema',
];
/** Keywords whose value is a list of subschemas. */
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
/** Keywords whose value maps names to subschemas. */
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
/** OpenAPI-only keywords with no meaning for validation or typing. */
const DROPPED = new Set(['xml', 'externalDocs', 'nullable', 'example']);

/**
 * OpenAPI schema objects to JSON Schema (2020-12 vocabulary) for the manifest. Every `$ref` stays a
 * reference, rewritten to the manifest's own `schemas`: `#/components/schemas/Pet` becomes
 * `#/schemas/Pet`, and a reference to any other place (`#/components/schemas/Pet/properties/id`,
 * an inline schema under a path) becomes a named schema of its own whose name is that place's
 * pointer (`/components/schemas/Pet/properties/id`; component names cannot hold a `/`, so the two
 * never collide). Nothing is ever expanded in place: circular schemas stay finite and a reference
 * bomb stays the size it was written.
 *
 * OpenAPI 3.0 is normalized: `nullable: true` becomes a `"null"` type (or an `anyOf` with one when
 * the schema has no `type`), boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers,
 * `example` becomes `examples`; 3.0 ignores the siblings of a `$ref`, and so does the manifest.
 * 3.1 schemas are kept as written. Extensions (`x-...`), `xml` and `externalDocs` are dropped.
 */
export class SchemaConverter {
  /** Manifest schemas made from places other than `#/components/schemas/<name>`, by name (= pointer). */
  readonly extra = new Map<string, JsonSchemaValue>();
  private readonly pending: string[] = [];

  constructor(
    private readonly document: unknown,
    private readonly openapi31: boolean,
    private readonly budget: Budget,
  ) {}

  convert(schema: unknown): JsonSchemaValue {
    this.budget.spend(1);
    if (typeof schema === 'boolean') return schema;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return {};
    const source = schema as Record<string, unknown>;
    if (typeof source.$ref === 'string') {
      const ref = { $ref: this.rewriteRef(source.$ref) };
      if (!this.openapi31) return ref;
      const rest = this.convertObject(source, new Set(['$ref']));
      return { ...rest, ...ref };
    }
    const out = this.convertObject(source, new Set());
    if (!this.openapi31) return this.normalize30(source, out);
    return out;
  }

  /** Converts the schemas that were referenced from places other than components, until none is left. */
  drain(): void {
    for (let name = this.pending.pop(); name !== undefined; name = this.pending.pop()) {
      const tokens = refTokens(`#${name}`)!;
      this.extra.set(name, this.convert(resolveTokens(this.document, tokens).value));
    }
  }

  /** The manifest reference for a document reference (both local; other references were refused before). */
  rewriteRef(ref: string): string {
    const tokens = refTokens(ref) ?? [];
    if (tokens.length === 3 && tokens[0] === 'components' && tokens[1] === 'schemas')
      return `#/schemas/${escapeToken(tokens[2]!)}`;
    const name = tokens.map((t) => `/${escapeToken(t)}`).join('');
    if (!this.extra.has(name)) {
      this.extra.set(name, {});
      this.pending.push(name);
    }
    return `#/schemas/${escapeToken(name)}`;
  }

  private convertObject(source: Record<string, unknown>, skip: Set<string>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(source)) {
      if (skip.has(key) || key.startsWith('x-') || (DROPPED.has(key) && !(this.openapi31 && key === 'example')))
        continue;
      if (ONE.includes(key) && value !== null && typeof value === 'object' && !Array.isArray(value))
        setOwn(out, key, this.convert(value));
      else if (ONE.includes(key) && typeof value === 'boolean') setOwn(out, key, value);
      else if (key === 'items' && Array.isArray(value))
        setOwn(
          out,
          key,
          value.map((v) => this.convert(v)),
        );
      else if (LIST.includes(key) && Array.isArray(value))
        setOwn(
          out,
          key,
          value.map((v) => this.convert(v)),
        );
      else if (MAP.includes(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const map: Record<string, unknown> = {};
        for (const [name, sub] of Object.entries(value)) setOwn(map, name, this.convert(sub));
        setOwn(out, key, map);
      } else if (key === 'discriminator' && value !== null && typeof value === 'object') {
        setOwn(out, key, this.discriminator(value as Record<string, unknown>));
      } else {
        this.budget.spendValue(value);
        setOwn(out, key, value);
      }
    }
    if (this.openapi31 && 'example' in source && !('examples' in source)) {
      out.examples = [source.example];
      delete out.example;
    }
    return out;
  }

  private discriminator(value: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { propertyName: value.propertyName };
    if (value.mapping && typeof value.mapping === 'object') {
      const mapping: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value.mapping as Record<string, unknown>))
        setOwn(mapping, k, typeof v === 'string' && v.startsWith('#') ? this.rewriteRef(v) : v);
      out.mapping = mapping;
    }
    return out;
  }

  private normalize30(source: Record<string, unknown>, out: Record<string, unknown>): JsonSchemaValue {
    if ('example' in source && !('examples' in source)) out.examples = [source.example];
    for (const [flag, bound] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ] as const) {
      if (typeof source[flag] !== 'boolean') continue;
      if (source[flag] === true && typeof source[bound] === 'number') {
        out[flag] = source[bound];
        delete out[bound];
      } else delete out[flag];
    }
    if (source.nullable !== true) return out;
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      return out;
    }
    if (Array.isArray(out.type)) {
      if (!out.type.includes('null')) out.type = [...(out.type as unknown[]), 'null'];
      return out;
    }
    if ('allOf' in out || 'oneOf' in out || 'anyOf' in out) return { anyOf: [out, { type: 'null' }] };
    return out;
  }
}
