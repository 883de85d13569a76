// Manifests built by hand for the generator's tests (ingestion lands separately): a small API that uses
// every schema form the generator must type, and helpers to make operations and parameters.
import {
  MANIFEST_VERSION,
  type Operation,
  OperationManifest,
  type OperationParameter,
  operationKey,
} from '../../../src/manifest';

export function parameter(
  name: string,
  where: OperationParameter['in'],
  schema: OperationParameter['schema'],
  extra: Partial<OperationParameter> = {},
): OperationParameter {
  return { name, in: where, required: where === 'path', schema, sensitive: false, ...extra };
}

export function operation(method: Operation['method'], path: string, extra: Partial<Operation> = {}): Operation {
  return {
    key: operationKey(method, path, extra.operationId),
    method,
    path,
    tags: [],
    deprecated: false,
    parameters: [],
    responses: [{ status: '200', content: [] }],
    security: [],
    ...extra,
  };
}

export function json(schema: unknown): Array<{ contentType: string; schema: Record<string, unknown> | boolean }> {
  return [{ contentType: 'application/json', schema: schema as Record<string, unknown> }];
}

export function manifestOf(
  operations: Operation[],
  schemas: OperationManifest['schemas'] = {},
  extra: Partial<OperationManifest> = {},
): OperationManifest {
  return OperationManifest.parse({
    manifestVersion: MANIFEST_VERSION,
    sourceFormat: '3.1.0',
    title: 'Test API',
    apiVersion: '1.0.0',
    servers: [{ url: 'https://api.example' }],
    securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
    schemas,
    operations,
    specHash: 'b'.repeat(64),
    ...extra,
  });
}

const ref = (name: string) => ({ $ref: `#/schemas/${name}` });

/** Every schema form the generator types: objects, arrays, enums, unions, nullable, maps, recursion. */
export const PET_SCHEMAS = {
  Pet: {
    type: 'object',
    required: ['id', 'name'],
    properties: {
      id: { type: 'integer', format: 'int64' },
      name: { type: 'string', description: "The pet's name" },
      tag: { type: ['string', 'null'] },
      status: { enum: ['available', 'pending', 'sold'] },
      category: ref('Category'),
      tags: { type: 'array', items: ref('Tag') },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      extra: { type: 'object', properties: { note: { type: 'string' } }, additionalProperties: true },
      'x-weird key': { type: 'boolean' },
    },
  },
  Tag: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } },
  Category: { type: 'object', properties: { name: { type: 'string' }, parent: ref('Category') } },
  Tree: { oneOf: [ref('Leaf'), ref('Node')] },
  Leaf: { type: 'object', required: ['value'], properties: { value: { type: 'string' } }, additionalProperties: false },
  Node: { type: 'object', required: ['children'], properties: { children: { type: 'array', items: ref('Tree') } } },
  SelfAlias: { anyOf: [ref('SelfAlias'), { type: 'string' }] },
  AliasA: ref('AliasB'),
  AliasB: { allOf: [ref('AliasA'), { type: 'object', properties: { b: { type: 'string' } } }] },
  Shape: {
    oneOf: [
      { type: 'object', required: ['kind', 'r'], properties: { kind: { const: 'circle' }, r: { type: 'number' } } },
      {
        type: 'object',
        required: ['kind', 'side'],
        properties: { kind: { const: 'square' }, side: { type: 'number' } },
      },
    ],
  },
  NamedPet: { allOf: [ref('Pet'), { type: 'object', required: ['owner'], properties: { owner: { type: 'string' } } }] },
  Nullable30: { type: 'string', nullable: true },
  Pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false },
  IdOrName: { type: ['integer', 'string'] },
  Answer: { const: 42 },
  Mixed: { enum: [1, 'a', null, true] },
  Anything: {},
  Nothing: false,
  FreeForm: { type: 'object' },
  Error: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
  Array: { type: 'object', properties: { shadow: { type: 'boolean' } } },
  string: { type: 'string' },
};

export const PET_OPERATIONS: Operation[] = [
  operation('get', '/pets', {
    operationId: 'listPets',
    summary: 'List pets',
    parameters: [
      parameter('limit', 'query', { type: 'integer' }),
      parameter('page', 'query', { type: 'integer' }),
      parameter('tags', 'query', { type: 'array', items: { type: 'string' } }),
    ],
    responses: [
      { status: '200', content: json({ type: 'array', items: ref('Pet') }) },
      { status: 'default', content: json(ref('Error')) },
    ],
    pagination: { kind: 'page', pageParam: 'page', sizeParam: 'limit' },
  }),
  operation('get', '/pets/{petId}', {
    operationId: 'getPet',
    parameters: [
      parameter('petId', 'path', { type: 'integer' }),
      parameter('X-Request-Id', 'header', { type: 'string' }),
      parameter('session', 'cookie', { type: 'string' }, { sensitive: true }),
      parameter('Accept', 'header', { type: 'string' }),
    ],
    responses: [
      { status: '200', content: json(ref('Pet')) },
      { status: '404', content: json(ref('Error')) },
    ],
    security: [{ key: [] }],
  }),
  operation('post', '/pets', {
    operationId: 'createPet',
    requestBody: { required: true, content: json(ref('Pet')) },
    responses: [
      { status: '201', content: json(ref('Pet')) },
      { status: '422', content: json(ref('Error')) },
      { status: '5XX', content: [] },
    ],
  }),
  operation('delete', '/pets/{petId}', {
    operationId: 'delete',
    parameters: [parameter('petId', 'path', { type: 'integer' })],
    responses: [{ status: '204', content: [] }],
  }),
  operation('get', '/stores/{storeId}/inventory', {
    parameters: [parameter('storeId', 'path', { type: 'string' })],
    responses: [{ status: '200', content: json({ type: 'object', additionalProperties: { type: 'integer' } }) }],
  }),
  operation('put', '/notes', {
    operationId: 'putNote',
    requestBody: { required: false, content: [{ contentType: 'text/plain', schema: { type: 'string' } }] },
    responses: [{ status: '2XX', content: [{ contentType: 'text/plain', schema: { type: 'string' } }] }],
  }),
  operation('get', '/shapes', {
    operationId: 'shapes',
    responses: [
      {
        status: '200',
        content: json({ type: 'array', items: { anyOf: [ref('Shape'), ref('Tree'), ref('NamedPet')] } }),
      },
    ],
  }),
];
