// The SDK generator: one manifest in, TypeScript source out, one module per operation (so a bundle
// carries only its operation) plus the named schemas' types, the runtime and an index. Spec text reaches
// the source only through emit-text (string literals, property keys, escaped comments) and identifiers.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JsonSchemaValue, Operation, OperationManifest, OperationResponse } from '../manifest';
import { docComment, stringLiteral } from './emit-text';
import { Namer, camelCase, pascalCase } from './identifiers';
import { MAX_SCHEMA_DEPTH, type TypeContext, schemaType, union } from './schema-types';

export interface GenerateOptions {
  /** JSDoc from the spec's summaries and descriptions (default true). */
  readonly docs?: boolean;
}

export interface GeneratedOperation {
  readonly key: string;
  /** The exported function (`reposGetContent`); its types are `<Pascal>Input`, `<Pascal>Result`, `<Pascal>Error`. */
  readonly functionName: string;
  /** `<functionName>Pages`, when the manifest declares pagination. */
  readonly pagesName?: string;
  /** Path of the operation's module in `files`. */
  readonly file: string;
  /** The operation's `OperationSpec` as a JavaScript literal: what its module and its bundle hand the runtime. */
  readonly specLiteral: string;
}

export interface GeneratedSources {
  /** Relative path → TypeScript source: `index.ts`, `runtime.ts`, `schemas.ts`, `operations/<name>.ts`. */
  readonly files: Record<string, string>;
  readonly operations: GeneratedOperation[];
}

const RUNTIME_FILE = 'runtime.ts';
const SCHEMAS_FILE = 'schemas.ts';
const TYPE_SUFFIXES = ['Input', 'Result', 'Error'] as const;

let runtimeSource: string | undefined;

function runtimePath(): string {
  const beside = join(__dirname, 'runtime', 'sdk-runtime.ts');
  if (existsSync(beside)) return beside;
  // Compiled into a process's bundle (the gateway's tsup build), __dirname is the bundle's folder: the
  // runtime is read from the package's source, which the process resolves like any dependency.
  return join(dirname(require.resolve('@vansales/sdk-factory')), 'codegen', 'runtime', 'sdk-runtime.ts');
}
/** The runtime's source, copied into every SDK so that the SDK compiles and bundles on its own. */
export function sdkRuntimeSource(): string {
  runtimeSource ??= readFileSync(runtimePath(), 'utf8');
  return runtimeSource;
}

function runtimeExports(source: string): string[] {
  return [...source.matchAll(/^export (?:async )?(?:function\*?|class|interface|type|const) ([A-Za-z_]\w*)/gm)].map(
    (match) => match[1] ?? '',
  );
}

function isObject(value: unknown): value is { readonly [key: string]: unknown } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Schema names behind a `#/schemas/<name>` reference (JSON-pointer escaped or not). */
function referencedName(ref: string, names: ReadonlyMap<string, string>): string | undefined {
  if (!ref.startsWith('#/schemas/')) return undefined;
  const raw = ref.slice('#/schemas/'.length);
  const unescaped = raw.replace(/~1/g, '/').replace(/~0/g, '~');
  if (names.has(unescaped)) return unescaped;
  if (names.has(raw)) return raw;
  try {
    const decoded = decodeURIComponent(unescaped);
    return names.has(decoded) ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/** References a named schema reaches without passing a property or an item: the edges of alias cycles. */
function directReferences(schema: unknown, names: ReadonlyMap<string, string>, into: Set<string>, depth = 0): void {
  // Past the depth schemaType emits, a reference becomes `unknown` anyway and cannot close a cycle.
  if (!isObject(schema) || depth > MAX_SCHEMA_DEPTH) return;
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    const name = referencedName(ref, names);
    if (name !== undefined) into.add(name);
    return;
  }
  for (const keyword of ['allOf', 'oneOf', 'anyOf']) {
    const list = schema[keyword];
    if (Array.isArray(list)) for (const sub of list) directReferences(sub, names, into, depth + 1);
  }
}

class SchemaTypes {
  /** Schema name → identifier in schemas.ts. */
  readonly identifiers = new Map<string, string>();
  private readonly direct = new Map<string, Set<string>>();
  private readonly reach = new Map<string, Set<string>>();

  constructor(readonly schemas: Readonly<Record<string, JsonSchemaValue>>) {
    const namer = new Namer();
    for (const name of Object.keys(schemas)) this.identifiers.set(name, namer.claim(pascalCase(name, 'Schema')));
    for (const name of Object.keys(schemas)) {
      const refs = new Set<string>();
      directReferences(schemas[name], this.identifiers, refs);
      this.direct.set(name, refs);
    }
  }

  /** Names reachable from `name` through direct references (memoized, iterative: no recursion limit). */
  private reachable(name: string): Set<string> {
    const known = this.reach.get(name);
    if (known !== undefined) return known;
    const seen = new Set<string>();
    const stack = [...(this.direct.get(name) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(this.direct.get(next) ?? []));
    }
    this.reach.set(name, seen);
    return seen;
  }

  /** A schema with its references followed (a bounded number of hops: reference chains may loop). */
  resolve(schema: unknown): unknown {
    let current = schema;
    for (let hops = 0; hops < 16 && isObject(current) && typeof current['$ref'] === 'string'; hops += 1) {
      const name = referencedName(current['$ref'], this.identifiers);
      current = name === undefined ? undefined : this.schemas[name];
    }
    return current;
  }

  context(prefix: string, docs: boolean, owner?: string): TypeContext {
    return {
      docs,
      reference: (ref) => {
        const name = referencedName(ref, this.identifiers);
        return name === undefined ? undefined : `${prefix}${this.identifiers.get(name)}`;
      },
      closesAliasCycle: (ref) => {
        if (owner === undefined) return false;
        const name = referencedName(ref, this.identifiers);
        return name !== undefined && (name === owner || this.reachable(name).has(owner));
      },
    };
  }
}

function isJson(contentType: string): boolean {
  return /[/+]json\b/i.test(contentType) || contentType === '*/*';
}

function bodyType(content: OperationResponse['content'], context: TypeContext): string {
  if (content.length === 0) return 'string';
  return union(content.map((media) => (isJson(media.contentType) ? schemaType(media.schema, context) : 'string')));
}

function statusType(status: string): string {
  return /^\d{3}$/.test(status) ? status : 'number';
}

function isSuccess(status: string): boolean {
  return status.startsWith('2');
}

/** Parameters OpenAPI says to ignore: the transport and the host own these headers. */
function ignored(parameter: Operation['parameters'][number]): boolean {
  return parameter.in === 'header' && /^(accept|content-type|authorization)$/i.test(parameter.name);
}

/**
 * The type of a page's items: the array at the pagination's `items` pointer (or the body itself) in each
 * JSON success response, followed through properties and named schemas; `unknown` where it cannot be told.
 */
function itemType(
  operation: Operation,
  responses: readonly OperationResponse[],
  schemas: SchemaTypes,
  context: TypeContext,
): string {
  const pointer = operation.pagination?.items ?? '';
  const tokens = pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  const types = responses.flatMap((response) =>
    response.content
      .filter((media) => isJson(media.contentType))
      .map((media) => {
        let schema: unknown = schemas.resolve(media.schema);
        for (const token of tokens) {
          const properties = isObject(schema) ? schema['properties'] : undefined;
          schema =
            isObject(properties) && Object.prototype.hasOwnProperty.call(properties, token)
              ? schemas.resolve(properties[token])
              : undefined;
        }
        const items = isObject(schema) ? schema['items'] : undefined;
        return items === undefined || Array.isArray(items) ? 'unknown' : schemaType(items, context, 1, false);
      }),
  );
  return types.length === 0 ? 'unknown' : union(types);
}

/**
 * One parameter per name and location, the last declared winning (operation-level after path-level);
 * header names compared case-insensitively, as HTTP does. A duplicate would be a duplicate property.
 */
function distinct(parameters: Operation['parameters']): Operation['parameters'] {
  const byKey = new Map<string, Operation['parameters'][number]>();
  for (const parameter of parameters) {
    const name = parameter.in === 'header' ? parameter.name.toLowerCase() : parameter.name;
    const key = `${parameter.in}\u0000${name}`;
    byKey.delete(key);
    byKey.set(key, parameter);
  }
  return [...byKey.values()];
}

function operationModule(
  operation: Operation,
  names: { functionName: string; typeBase: string; pagesName?: string },
  schemas: SchemaTypes,
  docs: boolean,
): { source: string; specLiteral: string } {
  const context = schemas.context('$S.', docs);
  const parameters = distinct(operation.parameters.filter((parameter) => !ignored(parameter)));
  const groups: Array<[string, Operation['parameters']]> = [
    ['path', parameters.filter((parameter) => parameter.in === 'path')],
    ['query', parameters.filter((parameter) => parameter.in === 'query')],
    ['headers', parameters.filter((parameter) => parameter.in === 'header')],
    ['cookies', parameters.filter((parameter) => parameter.in === 'cookie')],
  ];
  const inputMembers: string[] = [];
  let inputRequired = false;
  for (const [group, list] of groups) {
    if (list.length === 0) continue;
    const required = list.some((parameter) => parameter.required);
    inputRequired ||= required;
    const members = list.map((parameter) => {
      const doc = docs
        ? docComment([parameter.description, parameter.deprecated ? '@deprecated' : undefined], '    ')
        : '';
      const key = stringLiteral(parameter.name);
      return `${doc}    ${key}${parameter.required ? '' : '?'}: ${schemaType(parameter.schema, context, 1, false)};\n`;
    });
    inputMembers.push(`  ${group}${required ? '' : '?'}: {\n${members.join('')}  };\n`);
  }
  const requestBody = operation.requestBody;
  const media =
    requestBody?.content.find((entry) => isJson(entry.contentType)) ??
    requestBody?.content.find((entry) => /x-www-form-urlencoded/i.test(entry.contentType)) ??
    requestBody?.content[0];
  if (requestBody !== undefined) {
    inputRequired ||= requestBody.required;
    const type = media === undefined ? 'unknown' : schemaType(media.schema, context, 1, false);
    const doc = docs ? docComment([requestBody.description], '  ') : '';
    inputMembers.push(`${doc}  body${requestBody.required ? '' : '?'}: ${type};\n`);
  }

  const response = (entry: OperationResponse): string =>
    `$rt.ApiResponse<${statusType(entry.status)}, ${bodyType(entry.content, context)}>`;
  const successes = operation.responses.filter((entry) => isSuccess(entry.status));
  const fallback = operation.responses.filter((entry) => entry.status === 'default');
  const failures = operation.responses.filter((entry) => !isSuccess(entry.status));
  const resultTypes = (successes.length > 0 ? successes : fallback).map(response);
  const errorTypes = failures.map(response);

  const { functionName, typeBase, pagesName } = names;
  const [inputName, resultName, errorName] = TYPE_SUFFIXES.map((suffix) => `${typeBase}${suffix}`);
  const spec = {
    key: operation.key,
    method: operation.method,
    path: operation.path,
    params: parameters.map((parameter) => ({
      name: parameter.name,
      in: parameter.in,
      required: parameter.required,
      ...(parameter.style === undefined ? {} : { style: parameter.style }),
      ...(parameter.explode === undefined ? {} : { explode: parameter.explode }),
    })),
    ...(requestBody === undefined
      ? {}
      : { body: { contentType: media?.contentType ?? 'application/json', required: requestBody.required } }),
    security: operation.security.map((alternative) =>
      Object.keys(alternative).map((scheme) => ({ scheme, scopes: alternative[scheme] ?? [] })),
    ),
    ...(operation.pagination === undefined ? {} : { pagination: operation.pagination }),
  };
  const specLiteral = literal(spec);
  const inputArg = `input: ${inputName}${inputRequired ? '' : ' = {}'}`;
  const doc = docs
    ? docComment([
        operation.summary,
        operation.description,
        `${operation.method.toUpperCase()} ${operation.path}`,
        `@throws {${errorName}} when the API answers outside 2xx; SdkError on timeout, transport failure or invalid input`,
        operation.deprecated ? '@deprecated' : undefined,
      ])
    : '';
  const lines = [
    `import type * as $S from '../schemas';\n`,
    `import * as $rt from '../runtime';\n\n`,
    `const $spec: $rt.OperationSpec = ${specLiteral};\n\n`,
    `export type ${inputName} = {\n${inputMembers.join('')}};\n\n`,
    `export type ${resultName} = ${union(resultTypes.length > 0 ? resultTypes : ['$rt.ApiResponse<number, unknown>'])};\n\n`,
    `export type ${errorName} = $rt.ApiError<${union(errorTypes.length > 0 ? errorTypes : ['$rt.ApiResponse'])}>;\n\n`,
    doc,
    `export function ${functionName}(client: $rt.Client, ${inputArg}, options?: $rt.CallOptions): Promise<${resultName}> {\n`,
    `  return $rt.call(client, $spec, input, options) as Promise<${resultName}>;\n}\n`,
  ];
  if (pagesName !== undefined) {
    const pageType = `$rt.Page<${resultName}, ${itemType(operation, successes.length > 0 ? successes : fallback, schemas, context)}>`;
    lines.push(
      `\n/** Every page of ${functionName}, following the API's pagination; each page carries its \`items\`. */\n`,
      `export function ${pagesName}(client: $rt.Client, ${inputArg}, options?: $rt.PageOptions): AsyncGenerator<${pageType}, void, undefined> {\n`,
      `  return $rt.pages(client, $spec, input, options) as AsyncGenerator<${pageType}, void, undefined>;\n}\n`,
    );
  }
  return { source: lines.join(''), specLiteral };
}

/**
 * A data literal of plain JSON values: keys are generator-chosen identifiers (never spec text, so never
 * `__proto__`), every string through stringLiteral.
 */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (isObject(value))
    return `{ ${Object.keys(value)
      .map((key) => `${/^[A-Za-z_]\w*$/.test(key) ? key : stringLiteral(key)}: ${literal(value[key])}`)
      .join(', ')} }`;
  if (typeof value === 'string') return stringLiteral(value);
  return JSON.stringify(value) ?? 'undefined';
}

/** TypeScript sources for a manifest: strictly typed, one function per operation. */
export function generateSources(manifest: OperationManifest, options: GenerateOptions = {}): GeneratedSources {
  const docs = options.docs ?? true;
  const runtime = sdkRuntimeSource();
  const schemas = new SchemaTypes(manifest.schemas);
  const header = docComment([
    `Generated by @vansales/sdk-factory from ${manifest.title} ${manifest.apiVersion}: do not edit.`,
  ]);

  const schemaLines = [header, 'export {};\n'];
  for (const [name, identifier] of schemas.identifiers) {
    const schema = manifest.schemas[name];
    const description =
      isObject(schema) && typeof schema['description'] === 'string' ? schema['description'] : undefined;
    const title = isObject(schema) && typeof schema['title'] === 'string' ? schema['title'] : undefined;
    schemaLines.push(
      `\n${docs ? docComment([title, description]) : ''}export type ${identifier} = ${schemaType(schema, schemas.context('', docs, name))};\n`,
    );
  }

  // Index exports the runtime's names beside the operations': keep operation names and their derived
  // type names off them.
  const namer = new Namer();
  const runtimeNames = runtimeExports(runtime);
  for (const name of runtimeNames) {
    namer.reserve(name);
    for (const suffix of [...TYPE_SUFFIXES, 'Pages'])
      if (name.endsWith(suffix) && name.length > suffix.length) namer.reserve(name.slice(0, -suffix.length));
  }
  const files: Record<string, string> = { [RUNTIME_FILE]: runtime };
  const operations: GeneratedOperation[] = [];
  const index = [header, `export * from './runtime';\n`, `export type * as Schemas from './schemas';\n`];
  for (const operation of manifest.operations) {
    const paginated = operation.pagination !== undefined;
    const functionName = namer.claim(
      camelCase(operation.operationId ?? `${operation.method} ${operation.path}`, 'operation'),
      (candidate) => !paginated || !namer.isTaken(`${candidate}Pages`),
    );
    const pagesName = paginated ? `${functionName}Pages` : undefined;
    if (pagesName !== undefined) namer.reserve(pagesName);
    const typeBase = functionName.charAt(0).toUpperCase() + functionName.slice(1);
    const file = `operations/${functionName}.ts`;
    const { source, specLiteral } = operationModule(operation, { functionName, typeBase, pagesName }, schemas, docs);
    files[file] = `${header}${source}`;
    index.push(`export * from './operations/${functionName}';\n`);
    operations.push({
      key: operation.key,
      functionName,
      file,
      specLiteral,
      ...(pagesName === undefined ? {} : { pagesName }),
    });
  }
  files[SCHEMAS_FILE] = schemaLines.join('');
  files['index.ts'] = index.join('');
  return { files, operations };
}
