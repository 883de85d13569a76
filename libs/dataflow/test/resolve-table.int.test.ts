import { Client } from 'pg';
import { resolveTable, type DataConnection } from '@vansales/dataflow';
import { testServices } from '@vansales/test-kit';
import { mariadbAdmin, open, throwawayMariadbDatabase, throwawayPostgres } from './support/databases';

/*
 * Site policy rules are matched against the name the server resolves, not the one the cloud sent:
 * these are the server's own answers (search_path, case, the tables behind a view of a view).
 */
describe('resolveTable names a table as the server resolves it', () => {
  describe('PostgreSQL', () => {
    let db: Awaited<ReturnType<typeof throwawayPostgres>>;
    let conn: DataConnection;
    beforeAll(async () => {
      db = await throwawayPostgres();
      const admin = new Client({ connectionString: testServices().postgresUrl(db.name) });
      await admin.connect();
      for (const sql of [
        'CREATE SCHEMA app',
        'CREATE SCHEMA finance',
        'CREATE TABLE app.customer (id int PRIMARY KEY)',
        'CREATE TABLE public.customer (id int PRIMARY KEY)',
        'CREATE TABLE finance.customer (id int PRIMARY KEY, salary int)',
        'CREATE VIEW app.v1 AS SELECT id, salary FROM finance.customer',
        'CREATE VIEW app.v2 AS SELECT id FROM app.v1',
        'CREATE TABLE app.p (id int, amount int) PARTITION BY RANGE (id)',
        'CREATE TABLE app.p1 PARTITION OF app.p FOR VALUES FROM (0) TO (10) PARTITION BY RANGE (id)',
        'CREATE TABLE app.p1a PARTITION OF app.p1 FOR VALUES FROM (0) TO (5)',
        `ALTER DATABASE ${db.name} SET search_path = app, public`,
      ])
        await admin.query(sql);
      await admin.end();
      conn = await open(db.config);
    });
    afterAll(async () => {
      await conn?.close();
      await db?.drop();
    });

    it('follows search_path for a name without schema, and takes a schema as given', async () => {
      expect(await resolveTable(conn, { name: 'customer' })).toMatchObject({
        table: { schema: 'app', name: 'customer' },
        exists: true,
        kind: 'table',
        names: { defaultSchema: 'app', caseInsensitive: false },
      });
      expect((await resolveTable(conn, { schema: 'finance', name: 'customer' })).table.schema).toBe('finance');
      // Identifiers are quoted: another case is another (missing) table.
      expect((await resolveTable(conn, { name: 'Customer' })).exists).toBe(false);
      // A table to be created lands in the first schema of the path.
      expect(await resolveTable(conn, { name: 'landing' })).toMatchObject({
        table: { schema: 'app', name: 'landing' },
        exists: false,
      });
    });

    it('lists the tables behind a view of a view', async () => {
      const v2 = await resolveTable(conn, { name: 'v2' });
      expect(v2.kind).toBe('view');
      expect(v2.bases).toEqual(
        expect.arrayContaining([
          { schema: 'app', name: 'v1' },
          { schema: 'finance', name: 'customer' },
        ]),
      );
    });

    it('lists the tables a partition belongs to, up to the root', async () => {
      const p1a = await resolveTable(conn, { name: 'p1a' });
      expect(p1a.kind).toBe('table');
      expect(p1a.parents).toEqual(
        expect.arrayContaining([
          { schema: 'app', name: 'p1' },
          { schema: 'app', name: 'p' },
        ]),
      );
      expect((await resolveTable(conn, { name: 'customer' })).parents).toEqual([]);
    });
  });

  describe('MySQL (MariaDB)', () => {
    let db: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;
    let conn: DataConnection;
    beforeAll(async () => {
      db = await throwawayMariadbDatabase();
      await mariadbAdmin(
        [
          'CREATE TABLE customer (id int PRIMARY KEY, email varchar(100))',
          'CREATE VIEW v1 AS SELECT c.id, c.email FROM customer c',
          'CREATE VIEW v2 AS SELECT id FROM v1',
        ],
        db.name,
      );
      conn = await open(db.config);
    });
    afterAll(async () => {
      await conn?.close();
      await db?.drop();
    });

    it("uses the connection's database and compares case as the server does", async () => {
      const resolved = await resolveTable(conn, { name: 'customer' });
      expect(resolved).toMatchObject({ table: { schema: db.name, name: 'customer' }, exists: true, kind: 'table' });
      const [rows] = (await mariadbAdmin('SELECT @@lower_case_table_names AS lctn')) as { lctn: number }[][];
      const lctn = rows![0]!.lctn;
      expect(resolved.names.caseInsensitive).toBe(Number(lctn) !== 0);
      expect((await resolveTable(conn, { name: 'CUSTOMER' })).exists).toBe(Number(lctn) !== 0);
    });

    it('lists the tables behind a view of a view from the stored definitions', async () => {
      const v2 = await resolveTable(conn, { name: 'v2' });
      expect(v2.kind).toBe('view');
      expect(v2.bases).toEqual(
        expect.arrayContaining([
          { schema: db.name, name: 'v1' },
          { schema: db.name, name: 'customer' },
        ]),
      );
    });
  });
});
