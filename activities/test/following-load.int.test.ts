import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  BufferErrorCode,
  BufferKeyring,
  DataBuffer,
  createLocalFolderStore,
  newBufferKeySpec,
  newObjectId,
  type BlobStore,
} from '@vansales/buffer';
import {
  encodeChunk,
  openDataConnection,
  tableChecksum,
  type ColumnSpec,
  type DataConnection,
  type DataConnectionConfig,
} from '@vansales/dataflow';
import { createCloudActivities } from '@vansales/activities/cloud';
import type { DataLoadOutputT } from '@vansales/protocol';
import { throwawayPostgresDatabase } from '@vansales/test-kit';

const col = (name: string, type: ColumnSpec['type'], nullable = true): ColumnSpec => ({
  name,
  type,
  nullable,
  nativeType: '',
});
const COLUMNS = [col('id', { kind: 'integer', bits: 32 }, false), col('name', { kind: 'text', maxLength: 40 })];
const SCHEMA = { columns: COLUMNS, keyColumns: ['id'], dialect: 'postgres', source: 'items' };
const rows = (from: number, to: number, label = 'first') =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, `${label} ${from + i}`]);

function pgConfig(url: string, database: string): DataConnectionConfig {
  const u = new URL(url);
  return {
    dialect: 'postgres',
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
  };
}

/** Polls a condition (no fixed sleep): the follower works at its own pace. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The cloud load following a buffer object while its writer still stores it (the overlap of
 * extract and load in dataSyncWorkflow), on the local folder store and a real PostgreSQL.
 */
describe('cloudLoad following an object being written', () => {
  const tenantId = 'acme';
  let dir: string;
  let store: BlobStore;
  let buffer: DataBuffer;
  let pg: Awaited<ReturnType<typeof throwawayPostgresDatabase>>;
  let dest: DataConnection;
  const activities = () =>
    createCloudActivities({
      buffer,
      databases: {
        lookup: (tenant: string, name: string) =>
          tenant === tenantId && name === 'dw' ? pgConfig(pg.url, pg.name) : undefined,
      },
    });
  const count = async (table: string) => {
    if (!(await dest.describeTable({ name: table }))) return 0;
    const checksum = await tableChecksum(dest, { name: table }, COLUMNS, ['id']);
    return checksum.rows;
  };
  const write = (objectId: string, index: number, part: unknown[][]) =>
    encodeChunk(part).then((bytes) => buffer.writeChunk(tenantId, objectId, index, bytes, part.length));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vsc-follow-load-'));
    store = createLocalFolderStore(join(dir, 'store'));
    buffer = new DataBuffer({ store, keyring: BufferKeyring.fromSpec(newBufferKeySpec('follow-test')) });
    pg = await throwawayPostgresDatabase('vsc_follow');
    dest = await openDataConnection(pgConfig(pg.url, pg.name));
  });
  afterAll(async () => {
    await dest?.close();
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads stored chunks before the manifest exists, and ends when the manifest seals the object', async () => {
    const objectId = newObjectId();
    await buffer.createObject(tenantId, { objectId });
    await buffer.publishSchema(tenantId, objectId, SCHEMA);
    await write(objectId, 0, rows(1, 100));
    const loading = new MockActivityEnvironment().run(activities().cloudLoad, {
      tenantId,
      database: 'dw',
      table: { name: 'items' },
      objectId,
      follow: true,
    });
    loading.catch(() => undefined);
    // The load wrote chunk 0 while the object is not committed: observed through the buffer itself.
    await until('chunk 0 in the destination', async () => (await count('items')) === 100);
    await expect(buffer.readManifest(tenantId, objectId)).rejects.toMatchObject({ code: BufferErrorCode.notCommitted });
    await write(objectId, 1, rows(101, 250));
    await buffer.commit(tenantId, objectId, { schema: SCHEMA, chunkCount: 2, rowCount: 250 });
    const result = (await loading) as DataLoadOutputT;
    expect(result).toMatchObject({ rowCount: 250, chunkCount: 2, created: true });
    expect(await count('items')).toBe(250);
  });

  it('loads every committed row when a retried writer rewrites a chunk it already loaded, split differently', async () => {
    const objectId = newObjectId();
    await buffer.createObject(tenantId, { objectId });
    await buffer.publishSchema(tenantId, objectId, SCHEMA);
    // Attempt 1 of the extract: chunks of 100 rows.
    await write(objectId, 0, rows(1, 100));
    await write(objectId, 1, rows(101, 200));
    const loading = new MockActivityEnvironment().run(activities().cloudLoad, {
      tenantId,
      database: 'dw',
      table: { name: 'rewritten' },
      objectId,
      follow: true,
    });
    loading.catch(() => undefined);
    await until('chunks 0 and 1 in the destination', async () => (await count('rewritten')) === 200);
    // Attempt 2 resumed after chunk 0 (its last reported position) and the source changed meanwhile:
    // chunk 1 holds other rows and values now, and the object ends later.
    await write(objectId, 1, rows(101, 150, 'second'));
    await write(objectId, 2, rows(151, 300, 'second'));
    await buffer.commit(tenantId, objectId, { schema: SCHEMA, chunkCount: 3, rowCount: 300 });
    const result = await loading;
    expect(result).toMatchObject({ rowCount: 300, chunkCount: 3 });

    // The destination holds exactly the committed object: its rows, with their committed values.
    const expected = await openDataConnection(pgConfig(pg.url, pg.name));
    try {
      await expected.createTable({ name: 'expected' }, COLUMNS, ['id']);
      await expected.writeRows({ name: 'expected' }, COLUMNS, [...rows(1, 100), ...rows(101, 300, 'second')], {
        mode: 'insert',
        keyColumns: ['id'],
      });
      expect(await tableChecksum(dest, { name: 'rewritten' }, COLUMNS, ['id'])).toEqual(
        await tableChecksum(expected, { name: 'expected' }, COLUMNS, ['id']),
      );
    } finally {
      await expected.close();
    }
  });

  it('a cancelled follower stops waiting for chunks that never come', async () => {
    const objectId = newObjectId();
    await buffer.createObject(tenantId, { objectId });
    await buffer.publishSchema(tenantId, objectId, SCHEMA);
    await write(objectId, 0, rows(1, 10));
    const env = new MockActivityEnvironment();
    const loading = env.run(activities().cloudLoad, {
      tenantId,
      database: 'dw',
      table: { name: 'cancelled' },
      objectId,
      follow: true,
    });
    loading.catch(() => undefined);
    await until('chunk 0 in the destination', async () => (await count('cancelled')) === 10);
    env.cancel();
    await expect(loading).rejects.toBeDefined();
  });
});
