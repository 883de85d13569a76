import { Client } from 'pg';
import {
  ALLOW_ALL,
  DataflowErrorCode,
  encodeChunk,
  loadObject,
  type DataConnectionConfig,
  type StoredObject,
} from '@vansales/dataflow';
import { hostileManifests, type HostileCase } from '@vansales/test-kit';
import { mariadbAdmin, open, readAll, throwawayMariadbDatabase, throwawayPostgres } from './support/databases';
import { createMysqlPool } from '../src/mysql/pool';
import { createPgPool, runOne } from '../src/postgres/pool';

/*
 * A buffer manifest is written by whichever agent extracted the object and read by another site's
 * agent or by the cloud (both through loadObject). Before, an `other` type name, a charset or a
 * collation went into CREATE TABLE as written and PostgreSQL ran the DDL through the simple
 * protocol, so `text); DROP TABLE public.payroll; ...` dropped a table of the loading site. Each
 * hostile manifest here must be refused naming the column and field, with every table intact.
 */

const column = (name: string, type: unknown, nullable = true) => ({ name, type, nullable, nativeType: 'x' });

function storedObject(schema: unknown, chunks: Buffer[] = []): StoredObject {
  const rowCount = 0;
  return {
    manifest: async () => ({ schema, chunkCount: chunks.length, rowCount }),
    chunk: async (i) => chunks[i]!,
  };
}

const request = (objectId: string, table = 'incoming') => ({
  database: 'site',
  table: { name: table },
  keyColumns: ['id'],
  createIfMissing: true,
  policy: ALLOW_ALL,
  objectId,
});

type Target = {
  dialect: 'postgres' | 'mysql';
  config: DataConnectionConfig;
  /** Table names of the database, and the sentinel's rows. */
  tables(): Promise<string[]>;
  payroll(): Promise<unknown[][]>;
  drop(): Promise<void>;
};

async function postgresTarget(): Promise<Target> {
  const db = await throwawayPostgres();
  const admin = new Client({ ...db.config });
  await admin.connect();
  await admin.query('CREATE TABLE public.payroll (id int PRIMARY KEY, salary numeric(10,2))');
  await admin.query('INSERT INTO public.payroll VALUES (1, 1000.00), (2, 2000.00)');
  return {
    dialect: 'postgres',
    config: db.config,
    tables: async () =>
      (
        await admin.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
      ).rows.map((r) => r.t),
    payroll: async () =>
      (await admin.query({ text: 'SELECT id, salary FROM public.payroll ORDER BY id', rowMode: 'array' })).rows,
    drop: async () => {
      await admin.end();
      await db.drop();
    },
  };
}

async function mariadbTarget(): Promise<Target> {
  const db = await throwawayMariadbDatabase();
  await mariadbAdmin(
    [
      'CREATE TABLE payroll (id INT PRIMARY KEY, salary DECIMAL(10,2))',
      'INSERT INTO payroll VALUES (1, 1000.00), (2, 2000.00)',
    ],
    db.name,
  );
  return {
    dialect: 'mysql',
    config: db.config,
    tables: async () =>
      (
        (
          await mariadbAdmin(
            `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db.name}' ORDER BY 1`,
          )
        )[0] as { t: string }[]
      ).map((r) => r.t),
    payroll: async () =>
      (
        (await mariadbAdmin('SELECT id, salary FROM payroll ORDER BY id', db.name))[0] as {
          id: number;
          salary: string;
        }[]
      ).map((r) => [r.id, r.salary]),
    drop: db.drop,
  };
}

describe.each([
  ['PostgreSQL', postgresTarget],
  ['MariaDB', mariadbTarget],
])('a load into %s refuses what another site wrote against its manifest', (_name, make) => {
  let target: Target;
  const opened = () => open(target.config);

  beforeAll(async () => {
    target = await make();
  });
  afterAll(async () => {
    await target?.drop();
  });

  const intact = async () => {
    expect(await target.tables()).toEqual(['payroll']);
    expect((await target.payroll()).map((r) => [Number(r[0]), String(r[1])])).toEqual([
      [1, '1000.00'],
      [2, '2000.00'],
    ]);
  };

  it.each(hostileManifests().map((c: HostileCase) => [c.name, c] as const))(
    'refuses a manifest with %s, naming column and field, every table intact',
    async (_case, hostile) => {
      const load = loadObject(
        opened,
        request(`hostile-${hostile.name}`),
        storedObject(hostile.schema),
        () => undefined,
      );
      await expect(load).rejects.toMatchObject({ code: DataflowErrorCode.BAD_OBJECT });
      const message = ((await load.catch((e: unknown) => e)) as Error).message;
      expect(message).toContain(`buffer object hostile-${hostile.name}`);
      expect(message).toContain(hostile.names);
      await intact();
    },
  );

  it.each([
    ['a type this server does not have', 'public.no_such_type'],
    ["a table's row type", 'public.payroll'],
  ])('refuses an other type that is %s before any DDL, naming the column', async (_case, name) => {
    const schema = {
      columns: [
        column('id', { kind: 'integer', bits: 32 }, false),
        column('during', { kind: 'other', dialect: 'postgres', name }),
      ],
      keyColumns: ['id'],
    };
    const load = loadObject(opened, request('unknown-type'), storedObject(schema), () => undefined);
    if (target.dialect === 'postgres')
      await expect(load).rejects.toMatchObject({
        code: DataflowErrorCode.UNMAPPABLE_TYPE,
        column: 'during',
        message: expect.stringContaining('is not a base or range type of this PostgreSQL server'),
      });
    else await expect(load).resolves.toBeDefined(); // MySQL stores PostgreSQL-only types as text
    if (target.dialect === 'postgres') await intact();
  });

  /** A clean two-column manifest and chunks of the given rows. */
  const schema = {
    columns: [
      column('id', { kind: 'integer', bits: 32 }, false),
      column('name', { kind: 'text', maxLength: 10 }),
      column('mood', { kind: 'enum', values: ['happy', 'sad'] }),
      column('at', { kind: 'timestamp', withTimeZone: false }),
      column('blob', { kind: 'binary' }),
    ],
    keyColumns: ['id'],
  };
  const good = [1, 'one', 'happy', '2024-01-01 10:00:00', { $binary: 'AAE=' }];

  it.each([
    ['a string in an integer column', ['7x', 'one', 'happy', null, null], 'column id', 'is not an integer'],
    ['a number in a text column', [2, 42, 'happy', null, null], 'column name', 'is not a string'],
    [
      'a text longer than declared',
      [2, 'x'.repeat(11), 'happy', null, null],
      'column name',
      'longer than the declared 10',
    ],
    ['null in a NOT NULL column', [null, 'one', 'happy', null, null], 'column id', 'NOT NULL'],
    ['a label the enum does not have', [2, 'one', 'furious', null, null], 'column mood', "enum's labels"],
    ['a timestamp that is not one', [2, 'one', 'sad', 'yesterday; DROP', null], 'column at', 'is not a timestamp'],
    ['binary that is not {$binary}', [2, 'one', 'sad', null, 'AAE='], 'column blob', 'is not binary'],
    ['a row with an extra value', [2, 'one', 'sad', null, null, 'extra'], 'row 2', 'has 6 values for the 5 columns'],
    ['an object in a text column', [2, { a: 1 }, 'sad', null, null], 'column name', 'is not a string'],
  ])('refuses a chunk with %s and writes nothing of it', async (_case, bad, where, why) => {
    // Chunk 0 is good and committed (one transaction per chunk, resumable); chunk 1 holds a good row then the bad one.
    const id = `values-${Math.random().toString(36).slice(2, 8)}`;
    const table = `t_${id.replace(/-/g, '_')}`;
    const chunks = [await encodeChunk([good]), await encodeChunk([[3, 'three', 'sad', null, null], bad])];
    const load = loadObject(opened, request(id, table), storedObject(schema, chunks), () => undefined);
    const err = (await load.catch((e: unknown) => e)) as { code?: string; message: string; row?: number };
    expect(err.code).toBe(DataflowErrorCode.BAD_VALUE);
    expect(err.message).toContain(`chunk 1 of buffer object ${id}`);
    expect(err.message).toContain(where);
    expect(err.message).toContain(why);
    expect(err.row).toBe(1);
    const c = await open(target.config);
    try {
      // The good row of the refused chunk was not written either.
      expect((await readAll(c, { name: table }, ['id'], ['id'])).map((r) => Number(r[0]))).toEqual([1]);
    } finally {
      await c.close();
    }
  });

  it('still loads a clean object', async () => {
    const chunks = [await encodeChunk([good, [2, 'two', 'sad', '2024-01-02 00:00:00.5', null]])];
    await loadObject(opened, request('clean', 'clean'), storedObject(schema, chunks), () => undefined);
    const c = await open(target.config);
    try {
      expect((await readAll(c, { name: 'clean' }, ['id'], ['id', 'name'])).map((r) => [Number(r[0]), r[1]])).toEqual([
        [1, 'one'],
        [2, 'two'],
      ]);
    } finally {
      await c.close();
    }
  });
});

describe('statements run one at a time, whatever their text holds', () => {
  it('PostgreSQL: runOne (the extended protocol) refuses a second statement', async () => {
    const target = await postgresTarget();
    const pool = createPgPool({ ...target.config, poolSize: 1 } as Parameters<typeof createPgPool>[0]);
    try {
      const client = await pool.connect();
      try {
        await expect(runOne(client, 'SELECT 1; DROP TABLE public.payroll')).rejects.toThrow(/multiple commands/);
      } finally {
        client.release();
      }
      expect(await target.tables()).toEqual(['payroll']);
    } finally {
      await pool.end();
      await target.drop();
    }
  });

  it('MariaDB: the pool refuses multi-statement text (multipleStatements: false)', async () => {
    const target = await mariadbTarget();
    const pool = createMysqlPool({ ...target.config, tinyint1: 'boolean' } as Parameters<typeof createMysqlPool>[0]);
    try {
      await expect(pool.query('SELECT 1; DROP TABLE payroll')).rejects.toMatchObject({ code: 'ER_PARSE_ERROR' });
      expect(await target.tables()).toEqual(['payroll']);
    } finally {
      await pool.end();
      await target.drop();
    }
  });
});
