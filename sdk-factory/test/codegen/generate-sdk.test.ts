// The generator's output compiles under tsc --strict and is strictly typed: a consumer file with
// `@ts-expect-error` lines fails to compile if a type is looser than it should be (the directive is then
// unused), and every operation is bundled into a small sandbox script.
import { BUNDLE_GLOBAL, generateSdk, generateSources, typeCheckSdk } from '../../src/codegen';
import { PET_OPERATIONS, PET_SCHEMAS, json, manifestOf, operation, parameter } from './support/manifests';

const USAGE = `
import { createClient, getPet, listPetsPages, createPet, delete_, getStoresStoreIdInventory, putNote, shapes,
  type Schemas, type GetPetError, isApiError } from './index';

declare const client: ReturnType<typeof createClient>;

export async function use(): Promise<void> {
  const pet = await getPet(client, { path: { petId: 1 }, headers: { 'X-Request-Id': 'r' } });
  const status: 200 = pet.status;
  const name: string = pet.body.name;
  const id: number = pet.body.id;
  const tag: string | null | undefined = pet.body.tag;
  const petStatus: 'available' | 'pending' | 'sold' | undefined = pet.body.status;
  const label: string | undefined = pet.body.labels?.['any'];
  const parent: Schemas.Category | undefined = pet.body.category?.parent;
  const weird: boolean | undefined = pet.body['x-weird key'];
  // @ts-expect-error petId is required
  await getPet(client, { path: {} });
  // @ts-expect-error petId is a number
  await getPet(client, { path: { petId: 'x' } });
  // @ts-expect-error the body is required
  await createPet(client, {});
  // @ts-expect-error name is required in a Pet
  await createPet(client, { body: { id: 1 } });
  // @ts-expect-error not a status
  const gone: Schemas.Pet['status'] = 'gone';
  // @ts-expect-error a Leaf admits no other property
  const leaf: Schemas.Leaf = { value: 'a', other: 1 };
  const tree: Schemas.Tree = { children: [{ value: 'a' }, { children: [] }] };
  const shape: Schemas.Shape = { kind: 'circle', r: 1 };
  // @ts-expect-error a circle has r, not side
  const wrong: Schemas.Shape = { kind: 'circle', side: 1 };
  const named: Schemas.NamedPet = { id: 1, name: 'Rex', owner: 'Ann' };
  const pair: Schemas.Pair = ['a', 1];
  const answer: Schemas.Answer = 42;
  const idOrName: Schemas.IdOrName = 'x';
  const nullable: Schemas.Nullable30 = null;
  const shadow: Schemas.Array = { shadow: true };
  const text: Schemas.String = 'plain';
  await delete_(client, { path: { petId: 1 } });
  const inventory = await getStoresStoreIdInventory(client, { path: { storeId: 's' } });
  const count: number | undefined = inventory.body['dogs'];
  const note = await putNote(client);
  const noteText: string = note.body;
  const mixed = (await shapes(client)).body[0];
  for await (const page of listPetsPages(client, { query: { limit: 10 } })) {
    const pets: Schemas.Pet[] = page.body;
    const items: Schemas.Pet[] = page.items;
  }
  try {
    await getPet(client, { path: { petId: 2 } });
  } catch (error) {
    if (isApiError(error)) {
      const typed = error as GetPetError;
      if (typed.status === 404) {
        const message: string = typed.body.message;
      }
    }
  }
  void [status, name, id, tag, petStatus, label, parent, weird, gone, leaf, tree, shape, wrong, named, pair, answer];
  void [idOrName, nullable, shadow, text, count, noteText, mixed];
}
`;

describe('generateSdk', () => {
  const manifest = manifestOf(PET_OPERATIONS, PET_SCHEMAS);

  it('compiles under tsc --strict, and types are as strict as the schemas', () => {
    const { files } = generateSources(manifest);
    const result = typeCheckSdk({ ...files, 'usage.ts': USAGE });
    expect(result.errors).toEqual([]);
  });

  it('notices a type that is too loose (the check itself can fail)', () => {
    const { files } = generateSources(manifest);
    const loose = {
      ...files,
      'usage.ts': `import { getPet, createClient } from './index';\ndeclare const c: ReturnType<typeof createClient>;\n// @ts-expect-error\nvoid getPet(c, { path: { petId: 1 } });\n`,
    };
    expect(typeCheckSdk(loose).errors.join('\n')).toMatch(/TS2578/);
  });

  it('makes one function per operation, named safely and uniquely', () => {
    const { operations } = generateSources(manifest);
    expect(operations.map((entry) => [entry.key, entry.functionName, entry.pagesName])).toEqual([
      ['listPets', 'listPets', 'listPetsPages'],
      ['getPet', 'getPet', undefined],
      ['createPet', 'createPet', undefined],
      ['delete', 'delete_', undefined],
      ['GET /stores/{storeId}/inventory', 'getStoresStoreIdInventory', undefined],
      ['putNote', 'putNote', undefined],
      ['shapes', 'shapes', undefined],
    ]);
  });

  it('keeps colliding operation names apart, including from the runtime and Pages companions', () => {
    const colliding = manifestOf([
      operation('get', '/a', { operationId: 'get-a' }),
      operation('get', '/b', { operationId: 'getA' }),
      operation('get', '/c', { operationId: 'GetA' }),
      operation('get', '/d', { operationId: 'createClient' }),
      operation('get', '/e', { operationId: 'operation' }),
      operation('get', '/f', { operationId: 'list', pagination: { kind: 'link-header' } }),
      operation('get', '/g', { operationId: 'listPages' }),
      operation('get', '/h', { operationId: '42' }),
      operation('get', '/i', { operationId: '日本語' }),
    ]);
    const { files, operations } = generateSources(colliding);
    expect(operations.map((entry) => entry.functionName)).toEqual([
      'getA',
      'getA2',
      'getA3',
      'createClient2',
      'operation2',
      'list',
      'listPages2',
      '_42',
      'operation3',
    ]);
    expect(typeCheckSdk(files).errors).toEqual([]);
  });

  it('is deterministic: the same manifest gives the same files, byte for byte (artifacts are content-addressed)', async () => {
    const first = await generateSdk(manifest, { bundle: true });
    const second = await generateSdk(manifestOf(PET_OPERATIONS, PET_SCHEMAS), { bundle: true });
    expect(Object.keys(second.files)).toEqual(Object.keys(first.files));
    expect(second).toEqual(first);
  });

  it('leaves the spec prose out when asked (docs: false), and still compiles', () => {
    const { files } = generateSources(manifest, { docs: false });
    expect(files['schemas.ts']).not.toContain("The pet's name");
    expect(typeCheckSdk({ ...files, 'usage.ts': USAGE }).errors).toEqual([]);
  });

  it('compiles an API with no operations and no schemas', () => {
    expect(typeCheckSdk(generateSources(manifestOf([])).files).errors).toEqual([]);
  });

  it('bundles each operation into a small ES2020 script with no imports', async () => {
    const sdk = await generateSdk(manifest, { bundle: true });
    expect(sdk.operations).toHaveLength(PET_OPERATIONS.length);
    for (const entry of sdk.operations) {
      const bundle = entry.bundle ?? '';
      expect(bundle).toMatch(new RegExp(`^var ${BUNDLE_GLOBAL}=`));
      expect(bundle).not.toMatch(/\brequire\(|\bimport\b|process\.|Buffer/);
      expect(Buffer.byteLength(bundle)).toBeLessThanOrEqual(12 * 1024);
    }
  });

  it("types a page's items through the pagination pointer, properties and named schemas", () => {
    const paged = manifestOf(
      [
        operation('get', '/tags', {
          operationId: 'listTags',
          parameters: [parameter('cursor', 'query', { type: 'string' })],
          responses: [{ status: '200', content: json({ $ref: '#/schemas/TagPage' }) }],
          pagination: { kind: 'cursor', param: 'cursor', next: '/meta/next', items: '/data' },
        }),
      ],
      {
        TagPage: { type: 'object', properties: { data: { $ref: '#/schemas/Tags' }, meta: { type: 'object' } } },
        Tags: { type: 'array', items: { $ref: '#/schemas/Tag' } },
        Tag: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
      },
    );
    const usage = `import { listTagsPages, createClient } from './index';\ndeclare const c: ReturnType<typeof createClient>;\nexport async function u(): Promise<string[]> {\n  const names: string[] = [];\n  for await (const page of listTagsPages(c)) for (const tag of page.items) names.push(tag.name);\n  return names;\n}\n`;
    expect(typeCheckSdk({ ...generateSources(paged).files, 'usage.ts': usage }).errors).toEqual([]);
  });

  it('types a request body and responses by content type', () => {
    const manifestWithForm = manifestOf([
      operation('post', '/form', {
        operationId: 'form',
        requestBody: {
          required: true,
          content: [
            {
              contentType: 'application/x-www-form-urlencoded',
              schema: { type: 'object', properties: { a: { type: 'string' } } },
            },
          ],
        },
        responses: [
          {
            status: '200',
            content: json({ type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' } } }),
          },
        ],
      }),
    ]);
    const { files } = generateSources(manifestWithForm);
    const usage = `import { form, createClient } from './index';\ndeclare const c: ReturnType<typeof createClient>;\nexport async function u(): Promise<boolean> { return (await form(c, { body: { a: 'x' } })).body.ok; }\n`;
    expect(typeCheckSdk({ ...files, 'usage.ts': usage }).errors).toEqual([]);
  });
});
