// Injection-proof generation: a corpus of hostile strings placed in every position a specification
// controls (titles, names, descriptions, enum values, examples, property and parameter names,
// operationIds, paths, content types, scheme names) generates, compiles under --strict, contains no
// spec-made token outside strings and comments, and runs (each bundle, and the SDK as modules) without
// the canary global being set.
import { runInNewContext } from 'node:vm';
import ts from 'typescript';
import { BUNDLE_GLOBAL, generateSdk, typeCheckSdk } from '../../src/codegen';
import type { Operation, OperationManifest } from '../../src/manifest';
import { json, manifestOf, operation, parameter } from './support/manifests';

const CANARY = '__vscCanary';
const set = `globalThis.${CANARY} = 1`;

/** Hostile strings: comment, string and template breakers, line terminators, escapes, reserved and magic names. */
export const HOSTILE = [
  `*/ ${set}; /*`,
  `**/ ${set} /**`,
  'release/*/*',
  `\`; ${set}; \``,
  `\${${set}}`,
  `"; ${set}; "`,
  `'; ${set}; '`,
  `\\"; ${set}; //`,
  `\n${set};\n`,
  `\r\n${set}; //`,
  `\u2028${set};\u2029`,
  `\\u002a/ ${set}; /*`,
  `</script><script>${set}</script>`,
  `<!-- ${set} -->`,
  `}; ${set}; {`,
  `) { ${set} } (`,
  `$&$'$\``,
  '\\',
  '\u0000',
  '',
  ' ',
  'ünïcödé ✓ 日本語',
  '\ud800',
  '0leading',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'delete',
  'class',
  'await',
  'yield',
  'arguments',
  'eval',
  'let',
  'string',
  'never',
  'Array',
  'Promise',
  'Object',
  'undefined',
  'null',
  'globalThis',
  '$rt',
  '$S',
  '$spec',
  'createClient',
];

const pointerEscape = (text: string): string => text.replace(/~/g, '~0').replace(/\//g, '~1');

const nonEmpty = HOSTILE.map((text, index) => (text.trim() === '' ? `blank${index}` : text));

function hostileManifest(): OperationManifest {
  const schemas: Record<string, unknown> = {};
  nonEmpty.forEach((text, index) => {
    // defineProperty: assigning `schemas['__proto__']` would set the prototype instead of adding a schema.
    Object.defineProperty(schemas, text, {
      enumerable: true,
      value: {
        title: text,
        description: text,
        type: 'object',
        required: [text],
        properties: {
          [text]: {
            type: 'string',
            description: text,
            enum: [text, HOSTILE[(index + 1) % HOSTILE.length]],
            example: text,
          },
          [`${text}2`]: { const: text, default: text },
          next: { $ref: `#/schemas/${pointerEscape(text)}` },
        },
        additionalProperties: { type: 'string', description: text },
        example: { [text]: text },
      },
    });
  });
  const operations: Operation[] = nonEmpty.map((text, index) =>
    operation(index % 2 === 0 ? 'post' : 'get', `/release/*/*/${index}/{${text}}`, {
      operationId: text,
      key: `${text}#${index}`,
      summary: text,
      description: text,
      tags: [text],
      deprecated: index % 3 === 0,
      parameters: [
        parameter(text, 'path', { type: 'string', enum: [text] }, { description: text }),
        parameter(text, 'query', { type: 'array', items: { type: 'string', enum: [text] } }, { description: text }),
        parameter(text, 'header', { type: 'string', description: text }),
        parameter(text, 'cookie', { type: 'string', example: text }),
      ],
      ...(index % 2 === 0
        ? {
            requestBody: {
              required: true,
              description: text,
              content: json({ $ref: `#/schemas/${pointerEscape(text)}` }),
            },
          }
        : {}),
      responses: [
        {
          status: '200',
          description: text,
          content: json({ type: 'object', properties: { [text]: { enum: [text] } } }),
        },
        { status: '400', description: text, content: [{ contentType: `${text}/json`, schema: { description: text } }] },
      ],
      security: [{ [text]: [text] }],
      pagination: index % 4 === 1 ? { kind: 'cursor', param: text, next: `/${text}`, items: `/${text}` } : undefined,
      servers: [{ url: text, description: text }],
    }),
  );
  return manifestOf(operations, schemas as OperationManifest['schemas'], {
    title: HOSTILE.join(' '),
    apiVersion: `*/ ${set} /*`,
    description: HOSTILE.join('\n'),
    servers: [{ url: `https://x/${set}`, description: HOSTILE.join('') }],
    securitySchemes: Object.fromEntries(nonEmpty.map((text) => [text, { type: 'apiKey', in: 'header', name: text }])),
  });
}

/** Runs the SDK's modules (transpiled to CommonJS) in a fresh context whose globals carry no Node API. */
function loadSdk(files: Record<string, string>, context: Record<string, unknown>): Record<string, unknown> {
  const cache = new Map<string, Record<string, unknown>>();
  const load = (path: string): Record<string, unknown> => {
    const cached = cache.get(path);
    if (cached !== undefined) return cached;
    const source = files[path];
    if (source === undefined) throw new Error(`no module ${path}`);
    const exports: Record<string, unknown> = {};
    cache.set(path, exports);
    const output = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 },
    }).outputText;
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    const require = (specifier: string): Record<string, unknown> => {
      const parts = `${dir}${specifier}`.split('/');
      const resolved: string[] = [];
      for (const part of parts) {
        if (part === '..') resolved.pop();
        else if (part !== '.') resolved.push(part);
      }
      return load(`${resolved.join('/')}.ts`);
    };
    runInNewContext(`(function (exports, require) {\n${output}\n})`, context)(exports, require);
    return exports;
  };
  return load('index.ts');
}

function inputFor(entry: Operation): Record<string, unknown> {
  const groups: Record<string, Record<string, unknown>> = {};
  for (const param of entry.parameters) {
    const group = param.in === 'header' ? 'headers' : param.in === 'cookie' ? 'cookies' : param.in;
    groups[group] ??= {};
    Object.defineProperty(groups[group], param.name, { value: 'v', enumerable: true, configurable: true });
  }
  return { ...groups, ...(entry.requestBody === undefined ? {} : { body: { a: 1 } }) };
}

/** A header parameter whose name is no HTTP token (`a b`, a comment closer) is refused before anything is sent. */
const sendable = (entry: Operation): boolean =>
  entry.parameters.every(
    (param) =>
      param.in !== 'header' ||
      /^(accept|content-type|authorization)$/i.test(param.name) ||
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(param.name),
  );

const hostTransport = () => {
  const urls: string[] = [];
  const transport = (request: { url: string }) => {
    urls.push(request.url);
    return Promise.resolve({ status: 200, headers: { 'content-type': 'application/json' }, body: '{}' });
  };
  return { urls, transport };
};

describe('hostile specification text', () => {
  const manifest = hostileManifest();
  let sdk: Awaited<ReturnType<typeof generateSdk>>;

  beforeAll(async () => {
    sdk = await generateSdk(manifest, { bundle: true });
  });

  afterEach(() => {
    expect((globalThis as Record<string, unknown>)[CANARY]).toBeUndefined();
  });

  it('generates every operation, and the SDK compiles under --strict', () => {
    expect(sdk.operations).toHaveLength(manifest.operations.length);
    expect(typeCheckSdk(sdk.files).errors).toEqual([]);
  });

  it('leaves no spec-made token outside strings and comments, and no template literal', () => {
    for (const [path, source] of Object.entries(sdk.files)) {
      if (path === 'runtime.ts') continue; // fixed code, no spec text
      const scanner = ts.createScanner(ts.ScriptTarget.ES2020, false, ts.LanguageVariant.Standard, source);
      for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
        expect([ts.SyntaxKind.NoSubstitutionTemplateLiteral, ts.SyntaxKind.TemplateHead]).not.toContain(token);
        if (token === ts.SyntaxKind.Identifier) expect(scanner.getTokenText()).not.toContain(CANARY);
        if (token === ts.SyntaxKind.Unknown) throw new Error(`${path}: unexpected text ${scanner.getTokenText()}`);
      }
    }
  });

  it('runs every operation bundle in a bare context without setting the canary', async () => {
    for (const [index, entry] of sdk.operations.entries()) {
      const context: Record<string, unknown> = { setTimeout, clearTimeout };
      runInNewContext(`${entry.bundle ?? ''}\nglobalThis.${BUNDLE_GLOBAL} = ${BUNDLE_GLOBAL};`, context);
      const loaded = context[BUNDLE_GLOBAL] as {
        key: string;
        call: (host: unknown, input: unknown) => Promise<unknown>;
      };
      const spec = manifest.operations[index] as Operation;
      expect(loaded.key).toBe(spec.key);
      const { urls, transport } = hostTransport();
      if (sendable(spec)) {
        await expect(loaded.call({ transport }, inputFor(spec))).resolves.toMatchObject({ status: 200 });
        expect(urls[0]?.startsWith('/release/*/*/')).toBe(true);
      } else {
        await expect(loaded.call({ transport }, inputFor(spec))).rejects.toMatchObject({ code: 'invalid_input' });
        expect(urls).toEqual([]);
      }
      expect(context[CANARY]).toBeUndefined();
    }
  });

  it('runs the SDK as modules, every operation called, without setting the canary', async () => {
    const context: Record<string, unknown> = { setTimeout, clearTimeout };
    const exports = loadSdk(sdk.files, context);
    const createClient = exports['createClient'] as (options: unknown) => unknown;
    for (const [index, entry] of sdk.operations.entries()) {
      const spec = manifest.operations[index] as Operation;
      const { transport } = hostTransport();
      const fn = exports[entry.functionName] as (client: unknown, input: unknown) => Promise<{ status: number }>;
      const sent = fn(createClient({ transport }), inputFor(spec));
      if (sendable(spec)) expect((await sent).status).toBe(200);
      else await expect(sent).rejects.toMatchObject({ code: 'invalid_input' });
    }
    expect(context[CANARY]).toBeUndefined();
  });

  it('sends a path parameter value into its own segment only, encoded', async () => {
    const exports = loadSdk(sdk.files, { setTimeout, clearTimeout });
    const index = manifest.operations.findIndex(sendable);
    const entry = sdk.operations[index];
    const spec = manifest.operations[index] as Operation;
    const { urls, transport } = hostTransport();
    const createClient = exports['createClient'] as (options: unknown) => unknown;
    const fn = exports[entry?.functionName ?? ''] as (client: unknown, input: unknown) => Promise<unknown>;
    const input = inputFor(spec);
    Object.defineProperty(input['path'] as object, spec.parameters[0]?.name ?? '', { value: '../../admin?x=1#' });
    await fn(createClient({ transport }), input);
    expect(urls[0]).toContain('/..%2F..%2Fadmin%3Fx%3D1%23?');
  });
});
