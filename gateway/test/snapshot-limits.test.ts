import { ApplicationFailure } from '@temporalio/common';
import { createRepositories, createSchemaRegistry, openMetadataDb, type MetadataDb } from '@vansales/metadata';
import { SNAPSHOT_LIMITS, type SchemaSnapshot, type TableSnapshot } from '@vansales/protocol';
import { recordDiscoveredSchema } from '../src/agent-hub/record-discovered-schema';

// Embedded, in-memory PGlite: the real registry without a service.
let db: MetadataDb;
beforeAll(async () => {
  db = await openMetadataDb({ kind: 'pglite' });
  const repos = createRepositories(db);
  await repos.upsertTenant({ id: 'acme', name: 'Acme' });
  await repos.createConnector({ id: 'hq', tenantId: 'acme', name: 'hq' });
});
afterAll(async () => db?.destroy());

const column = (position: number) => ({
  name: `c${position}`,
  position,
  dataType: 'integer',
  nullable: true,
  default: null,
});
const table = (name: string, columns = 1): TableSnapshot => ({
  name,
  kind: 'table',
  columns: Array.from({ length: columns }, (_, i) => column(i + 1)),
  primaryKey: null,
  foreignKeys: [],
  indexes: [],
  rowEstimate: null,
});
const snapshot = (tables: TableSnapshot[], schemas = 1): SchemaSnapshot => ({
  dialect: 'postgres',
  database: 'erp',
  schemas: Array.from({ length: schemas }, (_, i) => ({ name: `s${i}`, tables })),
});
const identity = { tenantId: 'acme', connectorId: 'hq' };

describe('schema snapshots are bounded', () => {
  it('records a snapshot within the limits', async () => {
    const transform = recordDiscoveredSchema(createSchemaRegistry(db));
    const out = await transform(identity, 'schema.discover', { database: 'erp' }, snapshot([table('t', 3)]));
    expect(out).toMatchObject({ database: 'erp', tables: 1 });
  });

  it.each([
    ['too many columns', () => snapshot([table('wide', SNAPSHOT_LIMITS.columnsPerTable + 1)]), /columns/],
    ['a name past its length', () => snapshot([table('x'.repeat(SNAPSHOT_LIMITS.nameChars + 1))]), /name/],
    [
      'a type name of a megabyte',
      () => snapshot([{ ...table('t'), columns: [{ ...column(1), dataType: 'x'.repeat(1024 * 1024) }] }]),
      /dataType/,
    ],
    [
      'too many tables across schemas',
      // 11 schemas each listing the same 10,000 tables: 110,000 in all, past the total.
      () =>
        snapshot(
          Array.from({ length: 10_000 }, (_, i) => table(`t${i}`)),
          11,
        ),
      /at most 100000 tables/,
    ],
  ])('refuses %s, non-retryably, and records nothing', async (_what, make, message) => {
    const registry = createSchemaRegistry(db);
    const transform = recordDiscoveredSchema(registry);
    const database = `big-${Math.random().toString(36).slice(2)}`;
    const err = await transform(identity, 'schema.discover', { database }, make()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).type).toBe('BadInput');
    expect((err as Error).message).toMatch(/schema snapshot was refused/);
    expect((err as Error).message).toMatch(message);
    expect(await registry.listVersions(identity.tenantId, identity.connectorId, database)).toEqual([]);
  });
});
