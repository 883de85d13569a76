import { readFileSync } from 'node:fs';
import { ingestSpec, IngestError, IngestErrorCode, ProblemCode, type IngestLimitsInput } from '../../src/ingest';

/**
 * Hostile documents: each is refused with SPEC_LIMIT_EXCEEDED naming the bound (or, where nothing
 * needs expanding, accepted at its written size), never a crash, a hang or an exhausted heap.
 */
async function outcome(text: string, limits?: IngestLimitsInput) {
  try {
    const result = await ingestSpec({ text }, limits);
    return { accepted: result };
  } catch (err) {
    if (!(err instanceof IngestError)) throw err;
    return { refused: err };
  }
}
const info = { title: 'hostile', version: '1' };
const ok = { '200': { description: 'ok' } };

describe('hostile specifications', () => {
  it('a YAML alias bomb ("billion laughs") is refused before it expands', async () => {
    const lines = [
      'openapi: 3.0.3',
      'info: {title: bomb, version: "1"}',
      'paths: {}',
      'x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ];
    const names = 'abcdefghij';
    for (let i = 1; i < names.length; i++) {
      const prev = `*${names[i - 1]}`;
      lines.push(`x-${names[i]}: &${names[i]} [${Array(9).fill(prev).join(',')}]`);
    }
    // Fully expanded: 9^10 (3.4 billion) strings.
    const { refused } = await outcome(lines.join('\n'));
    expect(refused?.code).toBe(IngestErrorCode.limitExceeded);
    expect(refused?.limit).toBe('maxYamlAliases');
    expect(refused?.message).toMatch(/alias bomb/);
  });

  it('YAML aliases a real document uses a few times are fine', async () => {
    const text = [
      'openapi: 3.0.3',
      'info: {title: anchors, version: "1"}',
      'paths:',
      '  /a:',
      '    get:',
      '      responses: &ok',
      "        '200': {description: ok}",
      '  /b:',
      '    get:',
      '      responses: *ok',
    ].join('\n');
    const { accepted } = await outcome(text);
    expect(accepted?.manifest.operations).toHaveLength(2);
  });

  it('more bytes than the limit are refused before parsing', async () => {
    const text = JSON.stringify({ openapi: '3.0.3', info, paths: {}, 'x-pad': 'x'.repeat(33 * 1024 * 1024) });
    const { refused } = await outcome(text);
    expect(refused?.code).toBe(IngestErrorCode.tooLarge);
    expect(refused?.message).toMatch(/more than the 33554432 accepted/);
    expect((await outcome('{"openapi":"3.0.3"}'.padEnd(2000), { maxBytes: 1000 })).refused?.code).toBe(
      IngestErrorCode.tooLarge,
    );
  });

  it.each([
    [
      'JSON',
      `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"x-deep":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
    ],
    [
      'YAML',
      `openapi: 3.0.3\ninfo: {title: t, version: "1"}\npaths: {}\nx-deep: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
    ],
  ])('%s nested 50,000 levels deep is refused, not a stack overflow', async (_syntax, text) => {
    const { refused } = await outcome(text);
    expect(refused?.code).toBe(IngestErrorCode.limitExceeded);
    expect(refused?.limit).toBe('maxDepth');
  });

  it('more references than the limit are refused', async () => {
    const paths: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++)
      paths[`/p${i}`] = { get: { responses: { '200': { $ref: '#/components/responses/R' } } } };
    const text = JSON.stringify({
      openapi: '3.0.3',
      info,
      paths,
      components: { responses: { R: { description: 'r' } } },
    });
    expect((await outcome(text)).accepted?.manifest.operations).toHaveLength(200);
    const { refused } = await outcome(text, { maxRefs: 100 });
    expect(refused?.limit).toBe('maxRefs');
  });

  it('a schema reference bomb (10 references per level, 30 levels: 10^30 if expanded) stays its written size', async () => {
    const schemas: Record<string, unknown> = { L30: { type: 'string' } };
    for (let level = 0; level < 30; level++) {
      const properties: Record<string, unknown> = {};
      for (let k = 0; k < 10; k++) properties[`p${k}`] = { $ref: `#/components/schemas/L${level + 1}` };
      schemas[`L${level}`] = { type: 'object', properties };
    }
    const text = JSON.stringify({
      openapi: '3.0.3',
      info,
      paths: {
        '/bomb': {
          get: {
            responses: {
              '200': {
                description: 'ok',
                content: { 'application/json': { schema: { $ref: '#/components/schemas/L0' } } },
              },
            },
          },
        },
      },
      components: { schemas },
    });
    const { accepted } = await outcome(text);
    expect(Object.keys(accepted!.manifest.schemas)).toHaveLength(31);
    expect(accepted!.manifest.schemas.L0).toMatchObject({ properties: { p9: { $ref: '#/schemas/L1' } } });
    expect(JSON.stringify(accepted!.manifest).length).toBeLessThan(3 * text.length);
  });

  it('circular schemas stay references, directly and through a path-local schema', async () => {
    const text = JSON.stringify({
      openapi: '3.0.3',
      info,
      paths: {
        '/tree': {
          get: {
            responses: {
              '200': {
                description: 'ok',
                content: {
                  'application/json': {
                    schema: {
                      type: 'object',
                      properties: {
                        node: { $ref: '#/components/schemas/Node' },
                        again: { $ref: '#/paths/~1tree/get/responses/200/content/application~1json/schema' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Node: {
            type: 'object',
            properties: { children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } },
          },
        },
      },
    });
    const { manifest } = (await outcome(text)).accepted!;
    expect(manifest.schemas.Node).toEqual({
      type: 'object',
      properties: { children: { type: 'array', items: { $ref: '#/schemas/Node' } } },
    });
    const local = '/paths/~1tree/get/responses/200/content/application~1json/schema';
    const body = manifest.operations[0]!.responses[0]!.content[0]!.schema as { properties: Record<string, unknown> };
    expect(body.properties.again).toEqual({ $ref: `#/schemas/${local.replace(/~/g, '~0').replace(/\//g, '~1')}` });
    expect(manifest.schemas[local]).toMatchObject({ properties: { node: { $ref: '#/schemas/Node' } } });
  });

  it('a shared response multiplied by thousands of operations is refused by the manifest bound', async () => {
    const properties: Record<string, unknown> = {};
    for (let k = 0; k < 2000; k++) properties[`f${k}`] = { type: 'string' };
    const paths: Record<string, unknown> = {};
    for (let i = 0; i < 3000; i++)
      paths[`/p${i}`] = { get: { responses: { '200': { $ref: '#/components/responses/Big' } } } };
    const text = JSON.stringify({
      openapi: '3.0.3',
      info,
      paths,
      components: {
        responses: {
          Big: { description: 'big', content: { 'application/json': { schema: { type: 'object', properties } } } },
        },
      },
    });
    const { refused } = await outcome(text);
    expect(refused?.code).toBe(IngestErrorCode.limitExceeded);
    expect(refused?.limit).toBe('maxManifestNodes');
    // The same document is fine with a bound sized for it (what an operator can raise).
    const few = JSON.stringify({ ...JSON.parse(text), paths: Object.fromEntries(Object.entries(paths).slice(0, 10)) });
    expect((await outcome(few)).accepted?.manifest.operations).toHaveLength(10);
  });

  it('the time bound stops a large document', async () => {
    const text = readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.json'), 'utf8');
    const { refused } = await outcome(text, { timeoutMs: 10 });
    expect(refused?.code).toBe(IngestErrorCode.limitExceeded);
    expect(refused?.limit).toBe('timeoutMs');
    expect(refused?.message).toMatch(/longer than 10 ms \(stopped while/);
  }, 60_000);

  it('a __proto__ key is kept as a property and pollutes nothing', async () => {
    const text = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"type":"object","properties":{"__proto__":{"type":"string","description":"polluted"}}}}}}}}}},"components":{"schemas":{"__proto__":{"type":"integer"}}}}`;
    const { manifest } = (await outcome(text)).accepted!;
    expect(({} as Record<string, unknown>).description).toBeUndefined();
    expect(({} as Record<string, unknown>).type).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(manifest.schemas, '__proto__')).toBe(true);
    expect(JSON.stringify(manifest)).toContain('"__proto__":{"type":"string","description":"polluted"}');
    expect(JSON.stringify(manifest.schemas)).toContain('"__proto__":{"type":"integer"}');
  });

  it('thousands of problems are listed up to the bound, the rest counted', async () => {
    const paths: Record<string, unknown> = {};
    for (let i = 0; i < 1500; i++) paths[`/p${i}`] = { get: { operationId: 'same', responses: ok } };
    const { refused } = await outcome(JSON.stringify({ openapi: '3.0.3', info, paths }));
    expect(refused?.code).toBe(IngestErrorCode.invalid);
    expect(refused?.problems).toHaveLength(1001);
    expect(refused?.problems.at(-1)).toMatchObject({
      code: ProblemCode.truncated,
      message: '499 more problem(s) not listed',
    });
  });

  it('bad limits are refused by code', async () => {
    expect((await outcome('{}', { maxBytes: -1 })).refused?.code).toBe(IngestErrorCode.badLimits);
  });
});

/**
 * References an attacker hides where a reader might take them for data. A `$ref` in an Example Object
 * (`examples` of a parameter, a media type or `components`) is a reference to OpenAPI tools: oasdiff's
 * loader follows it when it compares versions, so an external one would make the factory read a file or
 * call a URL of the attacker's choosing (its own network: SSRF). It must be refused like any other.
 */
describe('references hidden in examples', () => {
  const metadata = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/';
  const refusedAt = async (doc: Record<string, unknown>) => {
    const { refused } = await outcome(JSON.stringify({ openapi: '3.0.3', info, ...doc }));
    return refused?.problems.filter((p) => p.code === ProblemCode.externalRef).map((p) => p.pointer);
  };

  it('an external $ref in components.examples is refused', async () => {
    const paths = { '/a': { get: { responses: ok } } };
    expect(await refusedAt({ paths, components: { examples: { leak: { $ref: metadata } } } })).toEqual([
      '/components/examples/leak/$ref',
    ]);
  });

  it("an external $ref in a parameter's or a media type's examples is refused", async () => {
    const paths = {
      '/a': {
        get: {
          parameters: [
            { name: 'q', in: 'query', schema: { type: 'string' }, examples: { one: { $ref: '/etc/passwd' } } },
          ],
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { examples: { two: { $ref: `${metadata}#/x` } } } },
            },
          },
        },
      },
    };
    expect((await refusedAt({ paths }))?.sort()).toEqual([
      '/paths/~1a/get/parameters/0/examples/one/$ref',
      '/paths/~1a/get/responses/200/content/application~1json/examples/two/$ref',
    ]);
  });

  it('an external $ref in a component named `properties` is refused', async () => {
    const paths = { '/a': { get: { responses: ok } } };
    const components = { schemas: { properties: { $ref: metadata } }, responses: { properties: { $ref: metadata } } };
    expect((await refusedAt({ paths, components }))?.sort()).toEqual([
      '/components/responses/properties/$ref',
      '/components/schemas/properties/$ref',
    ]);
  });

  it("an example's value stays data: a `$ref` inside it is not a reference", async () => {
    const paths = {
      '/a': {
        get: {
          responses: {
            '200': {
              description: 'ok',
              content: {
                'application/json': {
                  schema: { type: 'object', examples: [{ $ref: 'https://example.com/x' }] },
                  examples: { local: { $ref: '#/components/examples/shown' } },
                },
              },
            },
          },
        },
      },
    };
    const components = { examples: { shown: { value: { $ref: 'https://example.com/data-only' } } } };
    const { accepted } = await outcome(JSON.stringify({ openapi: '3.1.0', info, paths, components }));
    expect(accepted?.manifest.operations).toHaveLength(1);
  });
});
