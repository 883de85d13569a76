import { ingestSpec } from '../../src/ingest';
import type { Operation } from '../../src/manifest';

const info = { title: 'T', version: '1' };
const json = (schema: unknown) => ({
  description: 'ok',
  content: { 'application/json': { schema } },
});

async function manifestOf(doc: Record<string, unknown>, sourceUrl?: string) {
  return (await ingestSpec({ text: JSON.stringify({ info, ...doc }), sourceUrl })).manifest;
}
async function operation(doc: Record<string, unknown>, key: string): Promise<Operation> {
  const op = (await manifestOf(doc)).operations.find((o) => o.key === key);
  if (!op) throw new Error(`no operation ${key}`);
  return op;
}

describe('schemas become JSON Schema', () => {
  it('3.0: nullable becomes a null type, boolean exclusive bounds numbers, example becomes examples', async () => {
    const m = await manifestOf({
      openapi: '3.0.3',
      paths: {},
      components: {
        schemas: {
          Name: { type: 'string', nullable: true, example: 'Ada', 'x-internal': true },
          Level: { type: 'string', enum: ['a', 'b'], nullable: true },
          Ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: false },
          Either: { oneOf: [{ $ref: '#/components/schemas/Name' }, { type: 'integer' }], nullable: true },
          Ref: { $ref: '#/components/schemas/Name', description: 'ignored beside $ref in 3.0' },
        },
      },
    });
    expect(m.schemas).toEqual({
      Name: { type: ['string', 'null'], examples: ['Ada'] },
      Level: { type: ['string', 'null'], enum: ['a', 'b', null] },
      Ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      Either: { anyOf: [{ oneOf: [{ $ref: '#/schemas/Name' }, { type: 'integer' }] }, { type: 'null' }] },
      Ref: { $ref: '#/schemas/Name' },
    });
  });

  it('3.1: schemas kept as written (type arrays, $ref siblings), references rewritten', async () => {
    const m = await manifestOf({
      openapi: '3.1.0',
      paths: {},
      components: {
        schemas: {
          Name: { type: ['string', 'null'], exclusiveMinimum: 3 },
          Ref: { $ref: '#/components/schemas/Name', description: 'kept in 3.1' },
          Pets: { type: 'array', prefixItems: [{ $ref: '#/components/schemas/Name' }], items: false },
        },
      },
    });
    expect(m.schemas).toEqual({
      Name: { type: ['string', 'null'], exclusiveMinimum: 3 },
      Ref: { $ref: '#/schemas/Name', description: 'kept in 3.1' },
      Pets: { type: 'array', prefixItems: [{ $ref: '#/schemas/Name' }], items: false },
    });
  });

  it('discriminator mappings point into the manifest; a reference into a schema becomes a schema of its own', async () => {
    const m = await manifestOf({
      openapi: '3.0.3',
      paths: {},
      components: {
        schemas: {
          Pet: {
            type: 'object',
            properties: { kind: { type: 'string' } },
            discriminator: { propertyName: 'kind', mapping: { dog: '#/components/schemas/Dog' } },
          },
          Dog: { type: 'object', properties: { kind: { $ref: '#/components/schemas/Pet/properties/kind' } } },
        },
      },
    });
    expect(m.schemas.Pet).toMatchObject({ discriminator: { propertyName: 'kind', mapping: { dog: '#/schemas/Dog' } } });
    expect(m.schemas.Dog).toEqual({
      type: 'object',
      properties: { kind: { $ref: '#/schemas/~1components~1schemas~1Pet~1properties~1kind' } },
    });
    expect(m.schemas['/components/schemas/Pet/properties/kind']).toEqual({ type: 'string' });
  });
});

describe('operations', () => {
  const doc = {
    openapi: '3.0.3',
    servers: [{ url: '/v2' }],
    security: [{ key: [] }],
    paths: {
      '/items/{id}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'path level' },
          { name: 'verbose', in: 'query', schema: { type: 'boolean' } },
        ],
        get: {
          operationId: 'getItem',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'integer' }, description: 'operation wins' },
            { $ref: '#/components/parameters/Token' },
            { name: 'filter', in: 'query', content: { 'application/json': { schema: { type: 'object' } } } },
          ],
          security: [],
          responses: { '2XX': json({ type: 'string' }), default: { $ref: '#/components/responses/Error' } },
        },
        post: {
          requestBody: { $ref: '#/components/requestBodies/Item' },
          servers: [{ url: 'https://write.example/v2', description: 'writes' }],
          responses: { '201': { description: 'made', headers: { Location: { schema: { type: 'string' } } } } },
        },
      },
    },
    components: {
      securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
      parameters: {
        Token: { name: 'X-Api-Key', in: 'header', schema: { type: 'string' } },
      },
      responses: { Error: json({ $ref: '#/components/schemas/Error' }) },
      requestBodies: { Item: { required: true, content: { 'application/json': { schema: { type: 'object' } } } } },
      schemas: { Error: { type: 'object' } },
    },
  };

  it('merges path and operation parameters (operation wins), follows references, defaults style and explode', async () => {
    const get = await operation(doc, 'getItem');
    expect(get.parameters).toEqual([
      {
        name: 'id',
        in: 'path',
        required: true,
        schema: { type: 'integer' },
        description: 'operation wins',
        style: 'simple',
        explode: false,
        sensitive: false,
      },
      {
        name: 'verbose',
        in: 'query',
        required: false,
        schema: { type: 'boolean' },
        style: 'form',
        explode: true,
        sensitive: false,
      },
      {
        name: 'X-Api-Key',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        style: 'simple',
        explode: false,
        sensitive: true,
      },
      {
        name: 'filter',
        in: 'query',
        required: false,
        schema: { type: 'object' },
        style: 'form',
        explode: true,
        sensitive: false,
      },
    ]);
    expect(get.security).toEqual([]);
    expect(get.responses).toEqual([
      { status: '2XX', description: 'ok', content: [{ contentType: 'application/json', schema: { type: 'string' } }] },
      {
        status: 'default',
        description: 'ok',
        content: [{ contentType: 'application/json', schema: { $ref: '#/schemas/Error' } }],
      },
    ]);
  });

  it('request bodies, response headers, effective security and servers (relative ones resolved against the source URL)', async () => {
    const m = await manifestOf(doc, 'https://api.example.com/specs/openapi.json');
    expect(m.servers).toEqual([{ url: 'https://api.example.com/v2' }]);
    const post = m.operations.find((o) => o.key === 'POST /items/{id}')!;
    expect(post.requestBody).toEqual({
      required: true,
      content: [{ contentType: 'application/json', schema: { type: 'object' } }],
    });
    expect(post.responses[0]!.headers).toEqual({ Location: { type: 'string' } });
    expect(post.security).toEqual([{ key: [] }]);
    expect(post.servers).toEqual([{ url: 'https://write.example/v2', description: 'writes' }]);
    expect(post.parameters.map((p) => p.name)).toEqual(['id', 'verbose']);
  });

  it.each([
    ['access_token', true],
    ['clientSecret', true],
    ['X-Api-Key', true],
    ['password', true],
    ['key', true],
    ['keyword', false],
    ['key_id', false],
    ['secret_name', false],
    ['page', false],
    ['monkey', false],
  ])('a parameter named %s is sensitive: %s', async (name, sensitive) => {
    const get = await operation(
      {
        openapi: '3.0.3',
        paths: {
          '/a': {
            get: {
              parameters: [{ name, in: 'query', schema: { type: 'string' } }],
              responses: { '200': { description: 'ok' } },
            },
          },
        },
      },
      'GET /a',
    );
    expect(get.parameters[0]!.sensitive).toBe(sensitive);
  });

  it('declared secrets: format password and x-sensitive, and not a boolean named like one', async () => {
    const get = await operation(
      {
        openapi: '3.0.3',
        paths: {
          '/a': {
            get: {
              parameters: [
                { name: 'pin', in: 'query', schema: { type: 'string', format: 'password' } },
                { name: 'hint', in: 'query', 'x-sensitive': true, schema: { type: 'string' } },
                { name: 'hide_secret', in: 'query', schema: { type: 'boolean' } },
              ],
              responses: { '200': { description: 'ok' } },
            },
          },
        },
      },
      'GET /a',
    );
    expect(get.parameters.map((p) => [p.name, p.sensitive])).toEqual([
      ['pin', true],
      ['hint', true],
      ['hide_secret', false],
    ]);
  });
});

describe('pagination, recognised conservatively', () => {
  const list = (parameters: unknown[], body: unknown, headers?: Record<string, unknown>, method = 'get') => ({
    openapi: '3.0.3',
    paths: {
      '/things': {
        [method]: {
          parameters: parameters.map((p) =>
            typeof p === 'string' ? { name: p, in: 'query', schema: { type: 'integer' } } : p,
          ),
          responses: { '200': { ...json(body), ...(headers ? { headers } : {}) } },
        },
      },
    },
  });
  const page = async (doc: Record<string, unknown>, method = 'get') =>
    (await operation(doc, `${method.toUpperCase()} /things`)).pagination;
  const arrayOf = { type: 'array', items: { type: 'object' } };

  it('a Link header (GitHub style)', async () => {
    expect(await page(list(['per_page', 'page'], arrayOf, { Link: { schema: { type: 'string' } } }))).toEqual({
      kind: 'link-header',
    });
  });

  it('a cursor parameter with a next cursor in the body, items found', async () => {
    const body = {
      type: 'object',
      properties: {
        data: arrayOf,
        meta: { type: 'object', properties: { next_cursor: { type: 'string', nullable: true } } },
      },
    };
    expect(await page(list([{ name: 'cursor', in: 'query', schema: { type: 'string' } }, 'limit'], body))).toEqual({
      kind: 'cursor',
      param: 'cursor',
      next: '/meta/next_cursor',
      items: '/data',
    });
  });

  it('a cursor parameter without anything in the body that reads as the next one: not recognised', async () => {
    const body = { type: 'object', properties: { data: arrayOf } };
    expect(await page(list([{ name: 'cursor', in: 'query', schema: { type: 'string' } }], body))).toBeUndefined();
  });

  it('offset and limit; page and per_page; nothing on a POST or without the parameters', async () => {
    expect(await page(list(['offset', 'limit'], arrayOf))).toEqual({
      kind: 'offset',
      offsetParam: 'offset',
      limitParam: 'limit',
    });
    expect(await page(list(['page', 'per_page'], { type: 'object', properties: { results: arrayOf } }))).toEqual({
      kind: 'page',
      pageParam: 'page',
      sizeParam: 'per_page',
      items: '/results',
    });
    expect(await page(list(['page'], arrayOf, undefined, 'post'), 'post')).toBeUndefined();
    expect(await page(list(['limit'], arrayOf))).toBeUndefined();
    // A `page` that is not a number is not a page number.
    expect(await page(list([{ name: 'page', in: 'query', schema: { type: 'string' } }], arrayOf))).toBeUndefined();
  });

  it('declared with x-pagination wins when it names parameters the operation has', async () => {
    const doc = list(['offset', 'limit', 'skip'], arrayOf) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    doc.paths['/things']!.get!['x-pagination'] = { kind: 'offset', offsetParam: 'skip', limitParam: 'limit' };
    expect(await page(doc)).toEqual({ kind: 'offset', offsetParam: 'skip', limitParam: 'limit' });
    doc.paths['/things']!.get!['x-pagination'] = { kind: 'offset', offsetParam: 'nope' };
    expect(await page(doc)).toEqual({ kind: 'offset', offsetParam: 'offset', limitParam: 'limit' });
  });
});
