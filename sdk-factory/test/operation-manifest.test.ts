import { OperationManifest, operationKey } from '../src/manifest';

const manifest = {
  manifestVersion: 1,
  sourceFormat: '3.0.3',
  title: 'Pets',
  apiVersion: '1.0.0',
  servers: [{ url: 'https://pets.example/v1' }],
  securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
  schemas: { Pet: { type: 'object', properties: { id: { type: 'integer' } } } },
  operations: [
    {
      key: 'listPets',
      operationId: 'listPets',
      method: 'get',
      path: '/pets',
      tags: ['pets'],
      deprecated: false,
      parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer' }, sensitive: false }],
      responses: [
        {
          status: '200',
          content: [{ contentType: 'application/json', schema: { type: 'array', items: { $ref: '#/schemas/Pet' } } }],
        },
      ],
      security: [{ key: [] }],
      pagination: { kind: 'page', pageParam: 'page' },
    },
  ],
  specHash: 'a'.repeat(64),
};

describe('operation manifest', () => {
  it('accepts a well-formed manifest', () => {
    expect(OperationManifest.parse(manifest).operations[0]?.key).toBe('listPets');
  });

  it('names the field that is wrong', () => {
    const bad = { ...manifest, operations: [{ ...manifest.operations[0], method: 'fetch' }] };
    const result = OperationManifest.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['operations', 0, 'method']);
  });

  it('keys an operation without an operationId by method and path', () => {
    expect(operationKey('get', '/pets/{petId}')).toBe('GET /pets/{petId}');
    expect(operationKey('post', '/pets', 'createPet')).toBe('createPet');
  });
});
