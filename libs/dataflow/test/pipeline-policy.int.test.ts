import {
  ALLOW_ALL,
  DataflowErrorCode,
  decodeChunk,
  extractTable,
  loadObject,
  type DataConnection,
  type DataPolicy,
  type ObjectSink,
} from '@vansales/dataflow';
import { open, throwawayPostgres } from './support/databases';

/*
 * The data pipeline applies the injected policy itself, on the final read plan, so no adapter
 * (agent or cloud) can forget a rule: masked values never reach a chunk, a key the plan adds is
 * checked even when the caller did not ask for it, and a refused load opens nothing.
 */

/** A policy of the site file's shape, for the `t` table of database `db`. */
function policy(rules: Record<string, 'drop' | 'mask' | 'hash'>, writable = false): DataPolicy {
  return {
    source: 'the test policy',
    canWrite: () => writable,
    columnRule: (database, _table, column) =>
      database === 'db' && rules[column] ? { database, table: 't', column, action: rules[column] } : undefined,
    tableRules: (database) =>
      database === 'db'
        ? Object.entries(rules).map(([column, action]) => ({ database, table: 't', column, action }))
        : [],
    hasColumnRules: (database) => database === 'db' && Object.keys(rules).length > 0,
    protect: (action) => (action === 'mask' ? '****' : 'hashed'),
  };
}

function memorySink(): ObjectSink & { chunks: Buffer[]; manifest?: unknown } {
  const sink: ObjectSink & { chunks: Buffer[]; manifest?: unknown } = {
    chunks: [],
    put: async (index, bytes) => void (sink.chunks[index] = bytes),
    commit: async (manifest) => void (sink.manifest = manifest),
  };
  return sink;
}

describe('the pipeline applies the policy it is given', () => {
  let db: Awaited<ReturnType<typeof throwawayPostgres>>;
  let conn: DataConnection;

  beforeAll(async () => {
    db = await throwawayPostgres();
    conn = await open(db.config);
    await conn.createTable(
      { name: 't' },
      [
        { name: 'id', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'integer' },
        { name: 'email', type: { kind: 'text' }, nullable: true, nativeType: 'text' },
        { name: 'secret', type: { kind: 'text' }, nullable: true, nativeType: 'text' },
        { name: 'city', type: { kind: 'text' }, nullable: true, nativeType: 'text' },
      ],
      ['id'],
    );
    const columns = (await conn.describeTable({ name: 't' }))!.columns;
    await conn.writeRows(
      { name: 't' },
      columns,
      [
        [1, 'a@example.com', 's1', 'Oslo'],
        [2, 'b@example.com', 's2', 'Rome'],
      ],
      { mode: 'insert', keyColumns: ['id'] },
    );
  });
  afterAll(async () => {
    await conn?.close();
    await db?.drop();
  });

  const request = { database: 'db', table: { name: 't' }, chunkRows: 10 };

  it('never reads dropped columns and rewrites masked ones before a chunk is stored', async () => {
    const sink = memorySink();
    const out = await extractTable(
      conn,
      { ...request, policy: policy({ email: 'mask', secret: 'drop' }) },
      sink,
      () => undefined,
    );
    expect(out).toMatchObject({ rowCount: 2, chunkCount: 1, keyColumns: ['id'] });
    expect(await decodeChunk(sink.chunks[0]!)).toEqual([
      [1, '****', 'Oslo'],
      [2, '****', 'Rome'],
    ]);
    expect(
      (sink.manifest as { schema: { columns: { name: string; nativeType: string }[] } }).schema.columns.map(
        (c) => `${c.name}:${c.nativeType}`,
      ),
    ).toEqual(['id:integer', 'email:masked text', 'city:text']);
  });

  it('checks the key the read plan adds, not only the columns asked for', async () => {
    const sink = memorySink();
    const refused = extractTable(
      conn,
      { ...request, columns: ['city'], policy: policy({ id: 'hash' }) },
      sink,
      () => undefined,
    );
    await expect(refused).rejects.toMatchObject({ code: DataflowErrorCode.POLICY_REFUSED, column: 'id' });
    expect(sink.chunks).toEqual([]);
  });

  it('lets the cloud (ALLOW_ALL) read every column', async () => {
    const sink = memorySink();
    await extractTable(conn, { ...request, policy: ALLOW_ALL }, sink, () => undefined);
    expect(await decodeChunk(sink.chunks[0]!)).toEqual([
      [1, 'a@example.com', 's1', 'Oslo'],
      [2, 'b@example.com', 's2', 'Rome'],
    ]);
  });

  it('refuses a load into a table the policy does not list before fetching or opening anything', async () => {
    let touched = 0;
    const load = loadObject(
      async () => {
        touched++;
        return conn;
      },
      {
        database: 'db',
        table: { name: 't' },
        keyColumns: ['id'],
        createIfMissing: true,
        policy: policy({}),
        objectId: 'object-1',
      },
      {
        manifest: async () => {
          touched++;
          return { schema: {}, chunkCount: 0, rowCount: 0 };
        },
        chunk: async () => Buffer.alloc(0),
      },
      () => undefined,
    );
    await expect(load).rejects.toMatchObject({
      code: DataflowErrorCode.POLICY_REFUSED,
      message: expect.stringMatching(/writing to db\.t is refused by the test policy/),
    });
    expect(touched).toBe(0);
  });
});
