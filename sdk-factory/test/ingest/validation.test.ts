import { stringify } from 'yaml';
import { ingestSpec, IngestError, IngestErrorCode, ProblemCode, type SpecProblem } from '../../src/ingest';

/** The problems a refused document carries (fails the test if it was accepted). */
async function refused(doc: unknown, yaml = false): Promise<IngestError> {
  const text = yaml ? stringify(doc) : JSON.stringify(doc);
  const err = await ingestSpec({ text }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IngestError);
  return err as IngestError;
}
const errors = (e: IngestError) =>
  e.problems.filter((p) => p.severity === 'error').map(({ code, pointer }) => ({ code, pointer }));

const base = (paths: unknown, extra: Record<string, unknown> = {}) => ({
  openapi: '3.0.3',
  info: { title: 'T', version: '1' },
  paths,
  ...extra,
});
const ok = { '200': { description: 'ok' } };

describe('validation names every problem by pointer', () => {
  it('an operation without responses (3.0): the example of the issue', async () => {
    const e = await refused(base({ '/pets': { get: { responses: {} } } }));
    expect(e.code).toBe(IngestErrorCode.invalid);
    expect(e.problems).toContainEqual<SpecProblem>({
      severity: 'error',
      code: ProblemCode.noResponses,
      pointer: '/paths/~1pets/get/responses',
      message: 'an operation needs at least one response (for example `200` or `default`)',
    });
    expect(e.message).toMatch(/^the specification has \d+ error\(s\); the first: \//);
  });

  it('all problems of one document at once, each where it is', async () => {
    const e = await refused(
      base(
        {
          '/pets/{petId}': {
            get: { operationId: 'getPet', responses: ok, security: [{ apiKey: [] }] },
            put: {
              operationId: 'getPet',
              parameters: [
                { name: 'petId', in: 'path', required: true, schema: { type: 'string' } },
                { name: 'other', in: 'path', required: true, schema: { type: 'string' } },
                { name: 'q', in: 'query', schema: { $ref: '#/components/schemas/Missing' } },
              ],
              responses: ok,
            },
          },
          '/owners/{ownerId}': {
            parameters: [{ name: 'ownerId', in: 'path', schema: { type: 'string' } }],
            get: { responses: ok },
          },
        },
        { components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-Key' } } } },
      ),
    );
    expect(errors(e)).toEqual(
      expect.arrayContaining([
        { code: ProblemCode.unknownSecurityScheme, pointer: '/paths/~1pets~1{petId}/get/security/0/apiKey' },
        { code: ProblemCode.duplicateOperationId, pointer: '/paths/~1pets~1{petId}/put/operationId' },
        { code: ProblemCode.pathParamUndeclared, pointer: '/paths/~1pets~1{petId}/get/parameters' },
        { code: ProblemCode.pathParamUnused, pointer: '/paths/~1pets~1{petId}/put/parameters/1' },
        { code: ProblemCode.unresolvedRef, pointer: '/paths/~1pets~1{petId}/put/parameters/2/schema/$ref' },
        { code: ProblemCode.pathParamOptional, pointer: '/paths/~1owners~1{ownerId}/parameters/0' },
      ]),
    );
    const unknown = e.problems.find((p) => p.code === ProblemCode.unknownSecurityScheme)!;
    expect(unknown.message).toBe(
      'security scheme `apiKey` is not declared: add it under /components/securitySchemes or correct the name (declared: key)',
    );
    const dup = e.problems.find((p) => p.code === ProblemCode.duplicateOperationId)!;
    expect(dup.message).toContain('/paths/~1pets~1{petId}/get');
  });

  it('schema problems from the official OpenAPI schema, at the deepest place, in plain words', async () => {
    const e = await refused(
      base({
        '/a': { get: { responses: { '200': { descripton: 'typo' } }, parameters: [{ name: 'x', in: 'body' }] } },
      }),
    );
    const schema = e.problems.filter((p) => p.code === ProblemCode.schema);
    expect(schema).toContainEqual(
      expect.objectContaining({
        pointer: '/paths/~1a/get/responses/200',
        message: expect.stringMatching(
          /`descripton` is not a field OpenAPI 3\.0 allows here|`description` is required here/,
        ),
      }),
    );
    expect(
      schema.some(
        (p) => p.pointer === '/paths/~1a/get/parameters/0' || p.pointer.startsWith('/paths/~1a/get/parameters/0/'),
      ),
    ).toBe(true);
    // No noise from the Reference branch of every oneOf.
    expect(schema.some((p) => /`\$ref` is required/.test(p.message))).toBe(false);
  });

  it('Swagger 2.0 is checked against its own schema before conversion, pointers into the upload', async () => {
    const e = await refused({
      swagger: '2.0',
      info: { title: 'T', version: '1' },
      paths: { '/a': { get: { responses: { '200': { description: 'ok' } }, produces: 'application/json' } } },
    });
    expect(e.problems).toContainEqual(
      expect.objectContaining({
        code: ProblemCode.schema,
        pointer: '/paths/~1a/get/produces',
        message: 'must be array',
      }),
    );
  });

  it('external references are refused, named, with what to do', async () => {
    const e = await refused(
      base({
        '/a': {
          get: {
            responses: {
              '200': {
                description: 'ok',
                content: { 'application/json': { schema: { $ref: 'https://evil.example/schema.json#/Pet' } } },
              },
              '404': { $ref: 'common.yaml#/responses/NotFound' },
            },
          },
        },
      }),
    );
    expect(errors(e)).toHaveLength(2);
    expect(errors(e)).toEqual(
      expect.arrayContaining([
        {
          code: ProblemCode.externalRef,
          pointer: '/paths/~1a/get/responses/200/content/application~1json/schema/$ref',
        },
        { code: ProblemCode.externalRef, pointer: '/paths/~1a/get/responses/404/$ref' },
      ]),
    );
    expect(e.problems[0]!.message).toMatch(/bundle the specification into one document/);
  });

  it('Swagger 2.0: external references are refused before the converter could follow them', async () => {
    const e = await refused({
      swagger: '2.0',
      info: { title: 'T', version: '1' },
      paths: {
        '/a': {
          get: { responses: { '200': { description: 'ok', schema: { $ref: 'http://127.0.0.1:9/pet.json#/Pet' } } } },
        },
      },
    });
    expect(errors(e)).toEqual([{ code: ProblemCode.externalRef, pointer: '/paths/~1a/get/responses/200/schema/$ref' }]);
  });

  it('a reference to a reference that leads back to itself is named', async () => {
    const e = await refused(
      base(
        { '/a': { get: { parameters: [{ $ref: '#/components/parameters/A' }], responses: ok } } },
        {
          components: {
            parameters: { A: { $ref: '#/components/parameters/B' }, B: { $ref: '#/components/parameters/A' } },
          },
        },
      ),
    );
    expect(errors(e)).toContainEqual({ code: ProblemCode.circularRef, pointer: '/paths/~1a/get/parameters/0/$ref' });
  });

  it('warnings do not refuse: 3.1 without responses, ambiguous paths', async () => {
    const { problems, manifest } = await ingestSpec({
      text: JSON.stringify({
        openapi: '3.1.0',
        info: { title: 'T', version: '1' },
        paths: {
          '/a/{id}': { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], get: {} },
          '/a/{name}': {
            parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
            get: { responses: ok },
          },
        },
      }),
    });
    expect(manifest.operations).toHaveLength(2);
    expect(problems.map((p) => [p.severity, p.code, p.pointer])).toEqual([
      ['warning', ProblemCode.noResponses, '/paths/~1a~1{id}/get/responses'],
      ['warning', ProblemCode.ambiguousPath, '/paths/~1a~1{name}'],
    ]);
  });

  it('refuses what is not an OpenAPI document, and versions it does not read, by code', async () => {
    const code = (text: string) =>
      ingestSpec({ text }).then(
        () => 'accepted',
        (e: IngestError) => e.code,
      );
    expect(await code('{"openapi": "4.0.0", "info": {}}')).toBe(IngestErrorCode.notOpenApi);
    expect(await code('{"swagger": "1.2"}')).toBe(IngestErrorCode.notOpenApi);
    expect(await code('[1, 2]')).toBe(IngestErrorCode.notOpenApi);
    expect(await code('name: not an api')).toBe(IngestErrorCode.notOpenApi);
    expect(await code('{"openapi": "3.0.0",')).toBe(IngestErrorCode.unparsable);
    expect(await code('a: [b\nc: d')).toBe(IngestErrorCode.unparsable);
    expect(await code('a: 1\na: 2')).toBe(IngestErrorCode.unparsable);
    expect(await code('   ')).toBe(IngestErrorCode.unparsable);
  });

  it('JSON syntax errors say where', async () => {
    const where = (text: string) => ingestSpec({ text }).catch((e: IngestError) => e.message);
    expect(await where('{\n  "openapi": "3.0.0"\n  "info": {}}')).toMatch(/not valid JSON at line 3, column 3:/);
    expect(await where('{\n  "openapi": "3.0.0",\n  "info": {]\n}')).toMatch(/not valid JSON at line 3, column \d+:/);
  });
});
