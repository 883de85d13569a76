import { randomBytes } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { createConnection } from 'mysql2/promise';
import { startPlatform, services, type Platform } from './support/harness';

interface QueryResponse {
  result?: { rows: unknown[][]; rowCount: number; truncated: boolean };
  error?: { message: string; type?: string };
}

const pgUser = () => {
  const url = new URL(services.postgresUrl());
  return { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
};

describe('values survive the trip through the agent unchanged (real PostgreSQL and MariaDB)', () => {
  let platform: Platform;
  let tenantId: string;
  let connectorId: string;
  const pgDb = `vsc_types_${randomBytes(4).toString('hex')}`;
  const myDb = `vsc_types_${randomBytes(4).toString('hex')}`;

  const query = async (database: string, sql: string, maxRows?: number) =>
    platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, { connectorId, database, sql, maxRows });

  beforeAll(async () => {
    const admin = new PgClient({ connectionString: services.postgresUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pgDb}`);
    await admin.end();
    const pg = new PgClient({ connectionString: services.postgresUrl(pgDb) });
    await pg.connect();
    await pg.query(`SET TIME ZONE 'UTC'`);
    await pg.query(`CREATE TABLE v (id int PRIMARY KEY, d date, ts timestamp(6), tstz timestamptz, t time, num numeric(30,10), f8 float8,
      b boolean, bin bytea, j jsonb, txt text, n int, big bigint, u uuid, arr int[], iv interval)`);
    await pg.query(`INSERT INTO v VALUES (1, '2024-02-29', '2024-02-29 23:59:59.123456', '2024-03-31 01:30:00.5+02', '13:14:15.000001',
      '12345678901234567890.0123456789', 0.1, true, '\\x00ff10', '{"a":[1,2,{"b":null}],"é":"ü"}', 'Grüße 😀 ''quoted''', NULL,
      9007199254740993, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2,3}', '1 year 2 mons 3 days 04:05:06')`);
    await pg.query('CREATE TABLE many AS SELECT g AS id FROM generate_series(1, 200000) g');
    await pg.end();

    const my = await createConnection(services.mariadb);
    await my.query(`CREATE DATABASE ${myDb} CHARACTER SET utf8mb4`);
    await my.query(`CREATE TABLE ${myDb}.v (id int PRIMARY KEY, d date, dt datetime(6), ts timestamp(6) NULL, t time(6), num decimal(30,10), f8 double,
      b tinyint(1), bin varbinary(16), j json, txt text, n int, big bigint unsigned, e enum('small','large'), y year)`);
    await my.query(`INSERT INTO ${myDb}.v VALUES (1, '2024-02-29', '2024-02-29 23:59:59.123456', '2024-03-31 01:30:00.500000', '838:59:59.000000',
      '12345678901234567890.0123456789', 0.1, 1, 0x00ff10, '{"a":[1,2,{"b":null}]}', 'Grüße 😀 ''quoted''', NULL, 18446744073709551615, 'large', 2155)`);
    await my.query(`CREATE TABLE ${myDb}.many (id int PRIMARY KEY)`);
    await my.query(`INSERT INTO ${myDb}.many SELECT seq FROM ${myDb}.seq_1_to_200000`);
    await my.end();

    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Types' });
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'types',
      })
    ).body;
    connectorId = c.id;
    const { user, password } = pgUser();
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      databases: {
        pg: {
          dialect: 'postgres',
          host: '127.0.0.1',
          port: Number(new URL(services.postgresUrl()).port),
          user,
          password,
          database: pgDb,
          statementTimeoutMs: 2000,
        },
        my: {
          dialect: 'mysql',
          host: services.mariadb.host,
          port: services.mariadb.port,
          user: services.mariadb.user,
          password: services.mariadb.password,
          database: myDb,
          statementTimeoutMs: 2000,
        },
      },
    });
    await agent.welcomed;
  });

  afterAll(async () => {
    await platform?.close();
    const admin = new PgClient({ connectionString: services.postgresUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`);
    await admin.end();
    const my = await createConnection(services.mariadb);
    await my.query(`DROP DATABASE IF EXISTS ${myDb}`);
    await my.end();
  });

  it('PostgreSQL: dates, time zones, decimals, binary, json, NULL, bigint, uuid, arrays, intervals', async () => {
    const res = await query('pg', 'SELECT * FROM v');
    expect(res.body.error).toBeUndefined();
    expect(res.body.result?.rows).toEqual([
      [
        1,
        '2024-02-29',
        '2024-02-29 23:59:59.123456',
        // timestamptz: the instant, always in UTC with a Z (the agent's one encoding, same as data.extract).
        '2024-03-30T23:30:00.5Z',
        '13:14:15.000001',
        '12345678901234567890.0123456789',
        0.1,
        true,
        { $binary: Buffer.from([0x00, 0xff, 0x10]).toString('base64') },
        { a: [1, 2, { b: null }], é: 'ü' },
        "Grüße 😀 'quoted'",
        null,
        '9007199254740993',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        [1, 2, 3],
        // interval: ISO 8601 whatever the server's IntervalStyle.
        'P1Y2M3DT4H5M6S',
      ],
    ]);
  });

  it('MariaDB: dates, times over 24 h, decimals, binary, json, NULL, unsigned bigint, enum, year', async () => {
    const res = await query('my', 'SELECT * FROM v');
    expect(res.body.error).toBeUndefined();
    expect(res.body.result?.rows).toEqual([
      [
        1,
        '2024-02-29',
        '2024-02-29 23:59:59.123456',
        // TIMESTAMP is an instant: UTC with a Z; fractions without trailing zeros.
        '2024-03-31T01:30:00.5Z',
        '838:59:59',
        '12345678901234567890.0123456789',
        0.1,
        // tinyint(1) is MySQL's BOOLEAN.
        true,
        { $binary: Buffer.from([0x00, 0xff, 0x10]).toString('base64') },
        { a: [1, 2, { b: null }] },
        "Grüße 😀 'quoted'",
        null,
        '18446744073709551615',
        'large',
        2155,
      ],
    ]);
  });

  it.each(['pg', 'my'])('%s: streams at most maxRows of a 200,000-row result and says it truncated', async (db) => {
    const res = await query(db, 'SELECT id FROM many ORDER BY id', 1000);
    expect(res.body.result?.rowCount).toBe(1000);
    expect(res.body.result?.truncated).toBe(true);
    expect(res.body.result?.rows[999]).toEqual([1000]);
    // The connection is usable afterwards: a second query on the same agent works.
    const again = await query(db, 'SELECT COUNT(*) AS n FROM many');
    expect(again.body.result?.rows[0]?.map(String)).toEqual(['200000']);
  });

  it.each(['pg', 'my'])(
    '%s: a statement past its timeout fails with the database error',
    async (db) => {
      const platformDb = db === 'pg' ? 'pg' : 'my';
      // A deliberately slow cross join instead of a sleep function (sleep functions are refused by the guard).
      const sql = 'SELECT COUNT(*) FROM many a, many b, many c';
      const res = await platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, {
        connectorId,
        database: platformDb,
        sql,
      });
      expect(res.status).toBe(422);
      expect(res.body.error?.message).toMatch(
        db === 'pg' ? /statement timeout/ : /max_statement_time|interrupted|exceeded/i,
      );
    },
    90_000,
  );
});
