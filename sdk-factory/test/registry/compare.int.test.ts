import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalFolderStore } from '@vansales/buffer';
import { validateDefinition, type DefinitionDocumentInput } from '@vansales/definitions';
import {
  createDefinitionRepository,
  createRepositories,
  openMetadataDb,
  type DefinitionRepository,
  type MetadataDb,
} from '@vansales/metadata';
import { testServices, throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  findAffectedDefinitions,
  openArtifactRegistry,
  RegistryErrorCode,
  upgradeImpact,
  type ArtifactRegistry,
} from '../../src/registry';
import { specHash } from '../../src/ingest';
import { manifestOf, petstoreEdits, sharedSpec } from './support/specs';

// The oasdiff that ./vsc test builds (pinned, cached per machine) and passes as VSC_OASDIFF_BIN.
const services = testServices();
const petstore = sharedSpec('v3.0-petstore-expanded.yaml', services.sharedData);

describe('breaking changes between API versions (oasdiff on real documents)', () => {
  let db: MetadataDb;
  let dropDb: () => Promise<void>;
  let dir: string;
  let registry: ArtifactRegistry;
  let definitions: DefinitionRepository;

  beforeAll(async () => {
    const pg = await throwawayPostgresDatabase('vsc_registry_cmp');
    dropDb = pg.drop;
    db = await openMetadataDb({ kind: 'postgres', url: pg.url });
    await createRepositories(db).upsertTenant({ id: 'alpha', name: 'Alpha' });
    await createRepositories(db).upsertTenant({ id: 'beta', name: 'Beta' });
    dir = mkdtempSync(join(tmpdir(), 'vsc-registry-cmp-'));
    registry = openArtifactRegistry({
      config: { VSC_OASDIFF_BIN: process.env.VSC_OASDIFF_BIN },
      store: createLocalFolderStore(join(dir, 'store')),
      db,
      defaultKeyFile: join(dir, 'keys', 'registry.pem'),
    });
    definitions = createDefinitionRepository(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropDb?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const register = async (apiId: string, spec: Record<string, unknown>) =>
    (await registry.registerVersion('alpha', { apiId, spec, manifest: await manifestOf(spec), createdBy: 'ana' }))
      .version.version;

  it('flags a removed endpoint as breaking, on the operation that was removed', async () => {
    const v1 = await register('removed', petstore);
    const v2 = await register('removed', petstoreEdits.endpointRemoved(petstore));
    const report = await registry.compare('alpha', 'removed', v1, v2);
    expect(report.breaking).toBe(true);
    expect(report.affectedOperations).toEqual(['deletePet']);
    expect(report.changes).toEqual([
      expect.objectContaining({ level: 'error', method: 'delete', path: '/pets/{id}', operationKey: 'deletePet' }),
    ]);
    expect(report.changes[0]!.id).toMatch(/removed/);
  });

  it('flags a parameter made required as breaking', async () => {
    const v1 = await register('required', petstore);
    const v2 = await register('required', petstoreEdits.parameterRequired(petstore));
    const report = await registry.compare('alpha', 'required', v1, v2);
    expect(report).toMatchObject({ breaking: true, affectedOperations: ['findPets'] });
    expect(report.changes).toEqual([
      expect.objectContaining({ id: 'request-parameter-became-required', level: 'error', operationKey: 'findPets' }),
    ]);
  });

  it('flags a removed response property: a required one as breaking, an optional one as potentially breaking', async () => {
    const base = petstoreEdits.ownResponseSchema(petstore);
    const v1 = await register('response', base);
    const v2 = await register('response', petstoreEdits.responsePropertyRemoved(base, 'name'));
    const v3 = await register('response', petstoreEdits.responsePropertyRemoved(base, 'tag'));
    const required = await registry.compare('alpha', 'response', v1, v2);
    expect(required).toMatchObject({ breaking: true, affectedOperations: ['find pet by id'] });
    expect(required.changes).toEqual([
      expect.objectContaining({
        id: 'response-required-property-removed',
        level: 'error',
        operationKey: 'find pet by id',
      }),
    ]);
    // oasdiff rates this info; the registry raises it (a step mapping that field would silently get nothing).
    const optional = await registry.compare('alpha', 'response', v1, v3);
    expect(optional).toMatchObject({ breaking: true, affectedOperations: ['find pet by id'] });
    expect(optional.changes).toEqual([
      expect.objectContaining({ id: 'response-optional-property-removed', level: 'warning' }),
    ]);
  });

  it('does not flag an added optional parameter', async () => {
    const v1 = await register('optional', petstore);
    const v2 = await register('optional', petstoreEdits.optionalParameterAdded(petstore));
    expect(v2).toBe(v1 + 1);
    expect(await registry.compare('alpha', 'optional', v1, v2)).toEqual({
      apiId: 'optional',
      from: v1,
      to: v2,
      breaking: false,
      changes: [],
      affectedOperations: [],
    });
  });

  it("compares only the tenant's own versions", async () => {
    const err = await registry.compare('beta', 'removed', 1, 2).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: RegistryErrorCode.notFound });
  });

  it('never lets oasdiff follow a reference out of the documents (no URL a tenant names is fetched)', async () => {
    // The registry takes any OpenAPI 3 document (ingestion refuses external references, but the registry
    // must not rely on every caller ingesting): oasdiff's loader follows `$ref`s to URLs and files by
    // default, which would make the factory call its own network for a tenant.
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":"fetched"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const withRef = (doc: Record<string, unknown>, ref: string) => ({
        ...doc,
        components: { ...(doc.components as object), examples: { leak: { $ref: ref } } },
      });
      // Ingestion refuses these documents, so each is registered with its clean twin's manifest
      // (re-hashed), as a caller that skipped ingestion would.
      const registerRaw = async (clean: Record<string, unknown>, ref: string) => {
        const spec = withRef(clean, ref);
        const manifest = { ...(await manifestOf(clean)), specHash: specHash(spec) };
        return (await registry.registerVersion('alpha', { apiId: 'external-ref', spec, manifest, createdBy: 'ana' }))
          .version.version;
      };
      const v1 = await registerRaw(petstore, `http://127.0.0.1:${port}/base`);
      const v2 = await registerRaw(petstoreEdits.endpointRemoved(petstore), `http://127.0.0.1:${port}/revision`);
      const err = await registry.compare('alpha', 'external-ref', v1, v2).catch((e: unknown) => e);
      expect(hits).toEqual([]);
      expect(err).toMatchObject({ code: RegistryErrorCode.oasdiffFailed });
    } finally {
      server.close();
    }
  });

  describe('definitions that call the API', () => {
    const httpSource = (id: string, key: string, version: number) => ({
      id,
      kind: 'source' as const,
      http: {
        endpoint: { kind: 'http' as const, baseUrl: 'https://petstore.example/v1' },
        path: '/pets',
        operation: { apiId: 'shop', version, key },
      },
    });
    const doc = (steps: DefinitionDocumentInput['steps']): DefinitionDocumentInput => ({
      format: 'vansales.definition/v1',
      name: 'pets to the warehouse',
      steps: [
        ...steps,
        {
          id: 'load',
          kind: 'destination',
          http: {
            endpoint: { kind: 'http', baseUrl: 'https://petstore.example/v1' },
            path: '/pets',
            method: 'POST',
            operation: { apiId: 'shop', version: 1, key: 'addPet' },
          },
        },
      ],
      edges: steps.map((s) => ({ from: s.id, to: 'load' })),
    });

    it('names the definitions and steps a breaking version affects, and which can simply move', async () => {
      const v1 = await register('shop', petstore);
      // v2: limit made required on findPets and deletePet removed; addPet unchanged.
      const v2 = await register('shop', petstoreEdits.endpointRemoved(petstoreEdits.parameterRequired(petstore)));
      const published = doc([httpSource('pull-pets', 'findPets', v1)]);
      const { version } = await definitions.createDefinition({
        tenantId: 'alpha',
        id: 'pets',
        document: published,
        createdBy: 'ana',
      });
      await definitions.publish('alpha', 'pets', version.version);
      // A newer draft already moved its source to v2: only the published version still needs the change.
      await definitions.addVersion('alpha', 'pets', doc([httpSource('pull-pets', 'findPets', v2)]), 'ana');
      await definitions.createDefinition({
        tenantId: 'alpha',
        id: 'unrelated',
        document: doc([httpSource('read', 'find pet by id', v1)]),
        createdBy: 'ana',
      });

      const report = await registry.compare('alpha', 'shop', v1, v2);
      expect(report.affectedOperations).toEqual(['deletePet', 'findPets']);
      const affected = await findAffectedDefinitions(definitions, 'alpha', 'shop', report.affectedOperations, [v1]);
      expect(affected).toEqual([
        {
          definitionId: 'pets',
          version: 1,
          latest: false,
          published: true,
          steps: [
            {
              stepId: 'pull-pets',
              path: 'steps[0].http.operation',
              stepKind: 'source',
              operationKey: 'findPets',
              pinnedVersion: v1,
            },
          ],
        },
      ]);

      const impact = await upgradeImpact(registry, definitions, 'alpha', 'shop', v2);
      const pets = impact.definitions.filter((d) => d.definitionId === 'pets');
      // The published version: its source must change; its destination (addPet) can just be re-pinned.
      expect(pets.find((d) => d.published)).toMatchObject({
        version: 1,
        mustChange: [{ stepId: 'pull-pets', operationKey: 'findPets', pinnedVersion: v1 }],
        canUpgrade: [{ stepId: 'load', operationKey: 'addPet' }],
      });
      expect(pets.find((d) => d.published)!.mustChange[0]!.changes).toEqual([
        expect.objectContaining({ id: 'request-parameter-became-required' }),
      ]);
      // The latest version is on v2 for its source already; its destination is still on v1 and unaffected.
      expect(pets.find((d) => d.latest)).toMatchObject({
        version: 2,
        mustChange: [],
        canUpgrade: [{ stepId: 'load' }],
      });
      expect(impact.definitions.find((d) => d.definitionId === 'unrelated')).toMatchObject({
        mustChange: [],
        canUpgrade: [{ stepId: 'read' }, { stepId: 'load' }],
      });
      // One comparison per pinned version found (all were on v1).
      expect(impact.reports.map((r) => [r.from, r.to])).toEqual([[v1, v2]]);
      // Existing definitions stay on their pinned version: nothing was rewritten.
      expect((await definitions.getVersion('alpha', 'pets', 1))!.document).toMatchObject({
        steps: [{ http: { operation: { version: v1 } } }, { http: { operation: { version: 1 } } }],
      });
    });

    it('validates a step operation against the registry when the lookup is given', async () => {
      const lookup = {
        apiOperation: (ref: { apiId: string; version: number; key: string }) => registry.operationStatus('alpha', ref),
      };
      const ok = await validateDefinition(doc([httpSource('pull', 'findPets', 1)]), lookup);
      expect(ok.issues).toEqual([]);
      const bad = await validateDefinition(
        {
          ...doc([]),
          steps: [
            httpSource('gone', 'deletePet', 2),
            httpSource('nover', 'findPets', 9),
            {
              ...httpSource('noapi', 'x', 1),
              http: { ...httpSource('noapi', 'x', 1).http, operation: { apiId: 'nope', version: 1, key: 'x' } },
            },
          ],
          edges: [],
        },
        lookup,
      );
      expect(bad.ok).toBe(false);
      expect(bad.issues.filter((i) => i.code === 'unknown-api-operation').map((i) => [i.path, i.stepId])).toEqual([
        ['steps[0].http.operation', 'gone'],
        ['steps[1].http.operation', 'nover'],
        ['steps[2].http.operation', 'noapi'],
      ]);
      expect(bad.issues.find((i) => i.stepId === 'gone')!.message).toMatch(/version 2 of API "shop" does not have/);
    });
  });
});
