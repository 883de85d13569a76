import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir } from '@vansales/test-kit';
import { parse } from 'yaml';
import { HTTP_METHODS, OperationManifest } from '../../src/manifest';
import { ingestSpec, ProblemCode } from '../../src/ingest';

const dir = join(sharedDataDir() ?? '/nonexistent: set VSC_SHARED_DATA', 'openapi');
const read = (file: string) => readFileSync(join(dir, file), 'utf8');
const ingest = (file: string) => ingestSpec({ text: read(file) });

/** Operations counted straight from the file, independently of the ingester. */
function countOperations(file: string): number {
  const doc = parse(read(file)) as { paths?: Record<string, Record<string, unknown>> };
  return Object.values(doc.paths ?? {}).reduce(
    (n, item) => n + Object.keys(item).filter((k) => (HTTP_METHODS as readonly string[]).includes(k)).length,
    0,
  );
}

describe('ingestSpec over every shared specification', () => {
  const files = readdirSync(dir).sort();

  it('finds the nine shared documents', () => {
    expect(files).toEqual([
      'petstore-3.0.yaml',
      'v2.0-json-petstore.json',
      'v2.0-yaml-uber.yaml',
      'v3.0-callback-example.yaml',
      'v3.0-link-example.yaml',
      'v3.0-petstore-expanded.yaml',
      'v3.0-uspto.yaml',
      'v3.1-tictactoe.yaml',
      'v3.1-webhook-example.yaml',
    ]);
  });

  it.each(readdirSync(dir).sort())('%s: a valid manifest with every operation, keys unique', async (file) => {
    const { manifest, document } = await ingest(file);
    expect(OperationManifest.parse(manifest)).toEqual(manifest);
    expect(manifest.operations).toHaveLength(countOperations(file));
    expect(new Set(manifest.operations.map((o) => o.key)).size).toBe(manifest.operations.length);
    expect(String(document.openapi)).toMatch(/^3\.[01]\./);
    // Every manifest reference names a schema the manifest holds.
    const refs = [...JSON.stringify(manifest).matchAll(/"\$ref":"#\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) expect(manifest.schemas).toHaveProperty([ref.replace(/~1/g, '/').replace(/~0/g, '~')]);
  });

  it('petstore 3.0: 19 operations, references kept as manifest schemas, effective security', async () => {
    const { manifest, problems } = await ingest('petstore-3.0.yaml');
    expect(problems).toEqual([]);
    expect(manifest.sourceFormat).toBe('3.0.4');
    expect(manifest.operations).toHaveLength(19);
    const get = manifest.operations.find((o) => o.key === 'getPetById')!;
    expect(get).toMatchObject({ method: 'get', path: '/pet/{petId}', tags: ['pet'] });
    expect(get.parameters).toEqual([
      expect.objectContaining({
        name: 'petId',
        in: 'path',
        required: true,
        schema: { type: 'integer', format: 'int64' },
      }),
    ]);
    expect(get.responses.map((r) => r.status)).toEqual(['200', '400', '404', 'default']);
    expect(get.responses[0]!.content[0]).toEqual({
      contentType: 'application/json',
      schema: { $ref: '#/schemas/Pet' },
    });
    expect(get.security).toEqual([{ api_key: [] }, { petstore_auth: ['write:pets', 'read:pets'] }]);
    // The resolved schema: Pet's properties point at their own named schemas.
    expect(manifest.schemas.Pet).toMatchObject({
      type: 'object',
      required: ['name', 'photoUrls'],
      properties: {
        category: { $ref: '#/schemas/Category' },
        tags: { type: 'array', items: { $ref: '#/schemas/Tag' } },
      },
    });
    expect(manifest.securitySchemes.api_key).toEqual({ type: 'apiKey', in: 'header', name: 'api_key' });
    expect(manifest.operations.find((o) => o.key === 'addPet')!.requestBody).toMatchObject({
      required: true,
      content: expect.arrayContaining([{ contentType: 'application/json', schema: { $ref: '#/schemas/Pet' } }]),
    });
    // `deletePet` takes the api_key header: a secret by the security scheme's own name.
    const del = manifest.operations.find((o) => o.key === 'deletePet')!;
    expect(del.parameters.find((p) => p.name === 'api_key')).toMatchObject({ in: 'header', sensitive: true });
    expect(del.parameters.find((p) => p.name === 'petId')).toMatchObject({ sensitive: false });
  });

  it('Swagger 2.0 petstore (JSON): converted to 3.0, the 2.0 source format kept', async () => {
    const { manifest, document } = await ingest('v2.0-json-petstore.json');
    expect(manifest.sourceFormat).toBe('2.0');
    expect(document.openapi).toMatch(/^3\.0\./);
    expect(manifest.operations.map((o) => o.key)).toEqual(['listPets', 'createPets', 'showPetById']);
    expect(manifest.servers).toEqual([{ url: 'http://petstore.swagger.io/v1' }]);
    const list = manifest.operations[0]!;
    expect(list.parameters).toEqual([
      expect.objectContaining({
        name: 'limit',
        in: 'query',
        required: false,
        schema: { type: 'integer', format: 'int32' },
      }),
    ]);
    expect(list.responses.find((r) => r.status === '200')!.headers).toEqual({ 'x-next': { type: 'string' } });
    expect(manifest.schemas.Pets).toEqual({ type: 'array', items: { $ref: '#/schemas/Pet' } });
  });

  it('Swagger 2.0 Uber (YAML): keys by method and path where no operationId, offset paging recognised', async () => {
    const { manifest } = await ingest('v2.0-yaml-uber.yaml');
    expect(manifest.operations.map((o) => o.key)).toEqual([
      'GET /products',
      'GET /estimates/price',
      'GET /estimates/time',
      'GET /me',
      'GET /history',
    ]);
    expect(manifest.operations.find((o) => o.key === 'GET /history')!.pagination).toEqual({
      kind: 'offset',
      offsetParam: 'offset',
      limitParam: 'limit',
    });
    expect(manifest.operations.find((o) => o.key === 'GET /me')!.pagination).toBeUndefined();
  });

  it('callbacks: the operation is kept, its callbacks are not operations', async () => {
    const { manifest } = await ingest('v3.0-callback-example.yaml');
    expect(manifest.operations.map((o) => o.key)).toEqual(['POST /streams']);
  });

  it('links: six operations, path parameters declared on each', async () => {
    const { manifest } = await ingest('v3.0-link-example.yaml');
    expect(manifest.operations).toHaveLength(6);
    const pr = manifest.operations.find((o) => o.key === 'getPullRequestsById')!;
    expect(
      pr.parameters
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['pid', 'slug', 'username']);
  });

  it('petstore-expanded: an operationId with spaces is still the key; allOf kept', async () => {
    const { manifest } = await ingest('v3.0-petstore-expanded.yaml');
    expect(manifest.operations.map((o) => o.key)).toEqual(['findPets', 'addPet', 'find pet by id', 'deletePet']);
    expect(manifest.schemas.Pet).toMatchObject({ allOf: [{ $ref: '#/schemas/NewPet' }, expect.any(Object)] });
  });

  it('uspto: a templated server is kept as declared', async () => {
    const { manifest } = await ingest('v3.0-uspto.yaml');
    expect(manifest.operations.map((o) => o.key)).toEqual([
      'list-data-sets',
      'list-searchable-fields',
      'perform-search',
    ]);
    expect(manifest.servers[0]!.url).toBe('{scheme}://developer.uspto.gov/ds-api');
  });

  it('tictactoe 3.1: schemes with a capitalised Bearer pass, operation security overrides the document', async () => {
    const { manifest, problems } = await ingest('v3.1-tictactoe.yaml');
    expect(problems).toEqual([]);
    expect(manifest.operations.map((o) => o.key)).toEqual(['get-board', 'get-square', 'put-square']);
    expect(manifest.securitySchemes.bearerHttpAuthentication).toEqual({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(manifest.operations.find((o) => o.key === 'get-square')!.security).toEqual([
      { bearerHttpAuthentication: [] },
      { user2AppOauth: ['board:read'] },
    ]);
  });

  it('webhook-only 3.1: no operation, said as a warning', async () => {
    const { manifest, problems } = await ingest('v3.1-webhook-example.yaml');
    expect(manifest.operations).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: ProblemCode.noOperations })]);
  });

  it('the same document as JSON or YAML has the same specHash', async () => {
    const yamlText = read('v3.0-uspto.yaml');
    const fromYaml = await ingestSpec({ text: yamlText });
    const fromJson = await ingestSpec({ text: JSON.stringify(parse(yamlText), null, 2) });
    expect(fromJson.manifest.specHash).toBe(fromYaml.manifest.specHash);
    const edited = await ingestSpec({ text: yamlText.replace('version: 1.0.0', 'version: 1.0.1') });
    expect(edited.manifest.specHash).not.toBe(fromYaml.manifest.specHash);
  });
});

describe('specHash', () => {
  it('is sha256 over the canonical JSON of the document, fed in pieces', async () => {
    const { canonicalJson } = await import('@vansales/definitions/hash');
    const { createHash } = await import('node:crypto');
    const { specHash } = await import('../../src/ingest');
    for (const file of ['petstore-3.0.yaml', 'v2.0-json-petstore.json']) {
      const { manifest, document } = await ingest(file);
      const whole = createHash('sha256').update(canonicalJson(document), 'utf8').digest('hex');
      expect(manifest.specHash).toBe(whole);
      expect(specHash(document)).toBe(whole);
    }
    // Larger than one piece: a document whose canonical text is well over 64 KiB.
    const big = {
      openapi: '3.0.3',
      paths: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`/p${i}`, { 'x-ü': 'é'.repeat(i % 50) }])),
    };
    expect(specHash(big)).toBe(createHash('sha256').update(canonicalJson(big), 'utf8').digest('hex'));
  });
});
