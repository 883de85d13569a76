import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { checkReadOnlySql } from '@vansales/connector-agent';
import type { Dialect } from '@vansales/protocol';
import { startPlatform, services, type Platform } from './support/harness';

/**
 * Layer 2 proven on real servers: the agent connects as SUPERUSER (postgres, MariaDB root), where a
 * READ ONLY transaction stops nothing that matters, and every refused corpus statement is sent through
 * gateway, Temporal and agent. Each must fail its workflow with SqlRefused, and checksums of every
 * table, the roles, settings, locks, sequences and the files those statements would write must be the
 * same afterwards.
 */

interface CorpusEntry {
  sql: string;
  allowed: boolean;
}
interface QueryResponse {
  workflowId?: string;
  result?: { rows: unknown[][] };
  error?: { code: string; message: string; type?: string; workflowId?: string };
}

const corpusDir = join(__dirname, '..', '..', 'connector-agent', 'test', 'sql-corpus');
const refused = (dialect: Dialect) =>
  (JSON.parse(readFileSync(join(corpusDir, `${dialect}.json`), 'utf8')) as CorpusEntry[])
    .filter((e) => !e.allowed)
    .map((e) => e.sql);

// Files the refused statements would create if they ran (COPY TO, lo_export, INTO OUTFILE/DUMPFILE).
const PROOF_FILES = [
  '/tmp/vsc-sql-guard-proof',
  '/tmp/vsc-sql-guard-proof.csv',
  '/tmp/vsc-sql-guard-lo-proof',
  '/tmp/vsc-sql-guard-outfile',
  '/tmp/vsc-sql-guard-outfile2',
  '/tmp/vsc-sql-guard-dumpfile',
];

const pgAdmin = () => {
  const url = new URL(services.postgresUrl());
  return {
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
};

async function pgSnapshot(db: PgClient): Promise<Record<string, unknown>> {
  const rows = async (sql: string) => (await db.query(sql)).rows;
  const tables = await rows(`SELECT table_schema, table_name, table_type FROM information_schema.tables
    WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`);
  const checksums: Record<string, unknown> = {};
  for (const t of tables.filter((t) => t.table_type === 'BASE TABLE')) {
    const name = `"${t.table_schema}"."${t.table_name}"`;
    checksums[name] = (
      await rows(
        `SELECT count(*) AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS md5 FROM ${name} x`,
      )
    )[0];
  }
  return {
    tables,
    checksums,
    sequence: await rows('SELECT last_value, is_called FROM order_seq'),
    functions: await rows(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1`,
    ),
    // Roles and their settings are cluster-wide, and the tests running beside this one make and drop their own
    // (readers, the owners of throwaway databases, `./vsc up`'s logins, a database's search_path; CI once saw a
    // gateway store's owner dropped between the two snapshots). What the corpus could touch is the superuser it
    // runs as, the role it tries to create, the built-in pg_* roles, and settings of this database or of all.
    roles: await rows(
      "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls FROM pg_roles WHERE rolname IN (current_user, 'intruder') OR rolname LIKE 'pg\\_%' ORDER BY 1",
    ),
    roleSettings: await rows(
      'SELECT setdatabase, setrole, setconfig FROM pg_db_role_setting WHERE setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())) ORDER BY 1, 2',
    ),
    fileSettings: await rows('SELECT sourcefile, name, setting FROM pg_file_settings ORDER BY 1, 2, 3'),
    largeObjects: await rows('SELECT count(*) AS n FROM pg_largeobject_metadata'),
    // Locks taken in this database only: other test files (migrations) take advisory locks of their own at the same time.
    advisoryLocks: await rows(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    ),
    preparedTransactions: await rows('SELECT count(*) AS n FROM pg_prepared_xacts'),
  };
}

async function mariaSnapshot(db: Connection, name: string): Promise<Record<string, unknown>> {
  const rows = async (sql: string, values: unknown[] = []) => (await db.query<RowDataPacket[]>(sql, values))[0];
  const tables = await rows(
    'SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = ? ORDER BY 1',
    [name],
  );
  const checksums: Record<string, unknown> = {};
  for (const t of tables.filter((t) => t.type === 'BASE TABLE')) {
    checksums[t.name] = await rows(`CHECKSUM TABLE \`${name}\`.\`${t.name}\` EXTENDED`);
  }
  return {
    tables,
    checksums,
    sequence: await rows(`SELECT * FROM \`${name}\`.order_seq`),
    routines: await rows('SELECT routine_name FROM information_schema.routines WHERE routine_schema = ? ORDER BY 1', [
      name,
    ]),
    // Other test files add and drop their own reader accounts meanwhile; the accounts here are the server's own.
    accounts: await rows(
      `SELECT User, Host, Priv FROM mysql.global_priv WHERE User IN ('root', 'mariadb.sys', 'intruder') ORDER BY 1, 2`,
    ),
    databaseGrants: await rows('SELECT * FROM mysql.db WHERE Db = ? ORDER BY User, Host', [name]),
    // mysql-round-trip turns local_infile off for a moment to test the INSERT fallback; no corpus statement names it.
    globals: await rows("SHOW GLOBAL VARIABLES WHERE Variable_name <> 'local_infile'"),
    namedLock: await rows(`SELECT IS_USED_LOCK('vsc') AS holder`),
  };
}

describe('read-only guard on real PostgreSQL and MariaDB, as superuser, through the agent', () => {
  let platform: Platform;
  let tenantId: string;
  let connectorId: string;
  const suffix = randomBytes(4).toString('hex');
  const pgDb = `vsc_guard_${suffix}`;
  const myDb = `vsc_guard_${suffix}`;
  let pg: PgClient;
  let sentinel: PgClient;
  let my: Connection;

  const query = (database: string, sql: string, params?: unknown[]) =>
    platform.api<QueryResponse>('POST', `/v1/tenants/${tenantId}/queries`, { connectorId, database, sql, params });

  beforeAll(async () => {
    for (const f of PROOF_FILES) rmSync(f, { force: true });
    const admin = new PgClient({ connectionString: services.postgresUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pgDb}`);
    await admin.end();
    pg = new PgClient({ connectionString: services.postgresUrl(pgDb) });
    await pg.connect();
    await pg.query(
      `CREATE TABLE customers (id int PRIMARY KEY, name text, "update" text, email text, balance numeric(12,2), data jsonb, created_at timestamptz)`,
    );
    await pg.query(`INSERT INTO customers VALUES
      (1, 'Ada', 'u1', 'ada@example.com', 10.50, '{"city":"Paris","tags":["a","b"]}', '2024-01-02 03:04:05+00'),
      (2, 'O''Brien', NULL, NULL, -3.25, '{"city":"Cork"}', '2024-02-03 04:05:06+00'),
      (3, 'Zoë', 'u3', 'zoe@example.com', 0, '{}', '2024-03-04 05:06:07+00')`);
    await pg.query(
      'CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, amount numeric(12,2), status text, ordered_at date)',
    );
    await pg.query(
      `INSERT INTO orders VALUES (1, 1, 12.00, 'open', '2024-01-10'), (2, 1, 5.50, 'paid', '2024-02-11'), (3, 2, 99.99, 'open', '2024-03-12'), (4, 3, 1.00, 'paid', '2024-03-13')`,
    );
    await pg.query('CREATE SEQUENCE order_seq START 10');
    // Makes dblink_exec real, so a guard that let it through would show (when contrib is installed).
    await pg.query('CREATE EXTENSION IF NOT EXISTS dblink').catch(() => undefined);
    // A session a refused pg_terminate_backend/pg_cancel_backend would have ended.
    sentinel = new PgClient({ connectionString: services.postgresUrl(pgDb), application_name: 'vsc-guard-sentinel' });
    sentinel.on('error', () => undefined); // if it were terminated, the pid check below says so
    await sentinel.connect();

    my = await createConnection({ ...services.mariadb, multipleStatements: false });
    await my.query(`CREATE DATABASE ${myDb} CHARACTER SET utf8mb4`);
    await my.query(`USE ${myDb}`);
    await my.query(
      'CREATE TABLE customers (id int PRIMARY KEY, name varchar(100), `update` varchar(20), email varchar(100), balance decimal(12,2), data json, created_at datetime)',
    );
    await my.query(`INSERT INTO customers VALUES (1, 'Ada', 'u1', 'ada@example.com', 10.50, '{"city":"Paris","tags":["a","b"]}', '2024-01-02 03:04:05'),
      (2, 'O''Brien', NULL, NULL, -3.25, '{"city":"Cork"}', '2024-02-03 04:05:06'), (3, 'Zoë', 'u3', 'zoe@example.com', 0, '{}', '2024-03-04 05:06:07')`);
    await my.query(
      'CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount decimal(12,2), status varchar(10), ordered_at date)',
    );
    await my.query(
      `INSERT INTO orders VALUES (1, 1, 12.00, 'open', '2024-01-10'), (2, 1, 5.50, 'paid', '2024-02-11'), (3, 2, 99.99, 'open', '2024-03-12'), (4, 3, 1.00, 'paid', '2024-03-13')`,
    );
    await my.query('CREATE SEQUENCE order_seq START WITH 10');

    platform = await startPlatform();
    tenantId = `t-${suffix}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Guard' });
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
        name: 'guarded',
      })
    ).body;
    connectorId = c.id;
    const superuser = pgAdmin();
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      databases: {
        pg: {
          dialect: 'postgres',
          host: superuser.host,
          port: superuser.port,
          user: superuser.user,
          password: superuser.password,
          database: pgDb,
        },
        maria: {
          dialect: 'mysql',
          host: services.mariadb.host,
          port: services.mariadb.port,
          user: services.mariadb.user,
          password: services.mariadb.password,
          database: myDb,
        },
      },
    });
    await agent.welcomed;
  });

  afterAll(async () => {
    await platform?.close();
    await sentinel?.end().catch(() => undefined);
    await pg?.end().catch(() => undefined);
    if (my) {
      await my.query(`DROP DATABASE IF EXISTS ${myDb}`).catch(() => undefined);
      await my.end();
    }
    const admin = new PgClient({ connectionString: services.postgresUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`);
    await admin.end();
  });

  /** Sends every text, a few at a time, and returns each response in order. */
  async function sendAll(database: string, texts: string[]): Promise<QueryResponse[]> {
    const out: QueryResponse[] = new Array(texts.length);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const i = next++;
        const res = await query(database, texts[i]!);
        out[i] = {
          ...res.body,
          error:
            res.body.error ?? (res.status === 200 ? undefined : { code: String(res.status), message: 'no error body' }),
        };
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    return out;
  }

  async function expectRefusedThroughAgent(dialect: Dialect, database: string) {
    const texts = refused(dialect);
    expect(texts.length).toBeGreaterThanOrEqual(60);
    const responses = await sendAll(database, texts);
    const outcomes = responses.map((r, i) => ({ sql: texts[i], type: r.error?.type, message: r.error?.message }));
    const expected = await Promise.all(
      texts.map(async (sql) => {
        const verdict = await checkReadOnlySql(sql, dialect);
        return { sql, type: 'SqlRefused', message: verdict.allowed ? '(the guard allows it)' : verdict.reason };
      }),
    );
    // The agent refused each one with exactly the reason the guard gives for its dialect.
    expect(outcomes).toEqual(expected);
    // ...and each is a failed workflow in Temporal, after a single attempt (SqlRefused is not retryable).
    for (const r of responses.slice(0, 3)) {
      const handle = platform.temporal.workflow.getHandle(r.error!.workflowId!);
      expect((await handle.describe()).status.name).toBe('FAILED');
      const history = await handle.fetchHistory();
      expect(history.events?.filter((e) => e.activityTaskStartedEventAttributes).length).toBe(1);
    }
  }

  it('refuses every refused PostgreSQL corpus statement, and the database is unchanged', async () => {
    const sessionProbe = `SELECT current_setting('search_path') AS path, current_setting('default_transaction_read_only') AS ro, current_setting('statement_timeout') AS timeout`;
    const allowedBefore = await query('pg', sessionProbe);
    expect(allowedBefore.body.result?.rows).toHaveLength(1);
    const sentinelPid = (await sentinel.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const before = await pgSnapshot(pg);

    await expectRefusedThroughAgent('postgres', 'pg');

    expect(await pgSnapshot(pg)).toEqual(before);
    expect((await sentinel.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(sentinelPid);
    for (let i = 0; i < 4; i++)
      expect((await query('pg', sessionProbe)).body.result?.rows).toEqual(allowedBefore.body.result?.rows);
    for (const f of PROOF_FILES) expect(existsSync(f)).toBe(false);

    // The same path still answers reads, tricky ones included (a column named update, a keyword in a string).
    const read = await query(
      'pg',
      `SELECT "update", 'DROP TABLE orders' AS txt FROM customers /* DELETE */ WHERE id = $1`,
      [1],
    );
    expect(read.body.result?.rows).toEqual([['u1', 'DROP TABLE orders']]);

    // The snapshot notices a change, so its equality above means something.
    await pg.query('UPDATE orders SET amount = amount + 1 WHERE id = 1');
    expect(await pgSnapshot(pg)).not.toEqual(before);
  });

  it('refuses every refused MySQL/MariaDB corpus statement, and the database is unchanged', async () => {
    const sessionProbe =
      'SELECT @stolen AS stolen, @x AS x, @@session.sql_mode AS mode, @@session.autocommit AS autocommit';
    const allowedBefore = await query('maria', sessionProbe);
    expect(allowedBefore.body.result?.rows).toHaveLength(1);
    const before = await mariaSnapshot(my, myDb);

    await expectRefusedThroughAgent('mysql', 'maria');

    expect(await mariaSnapshot(my, myDb)).toEqual(before);
    for (let i = 0; i < 4; i++)
      expect((await query('maria', sessionProbe)).body.result?.rows).toEqual(allowedBefore.body.result?.rows);
    for (const f of PROOF_FILES) expect(existsSync(f)).toBe(false);

    // Parameters are put into the text by the driver; the guard checks that text, and reads still work.
    const read = await query(
      'maria',
      "SELECT `update`, 'DROP TABLE orders' AS txt FROM customers # DELETE\nWHERE name = ?",
      ["O'Brien"],
    );
    expect(read.body.result?.rows).toEqual([[null, 'DROP TABLE orders']]);
    // A value crafted to end its string on a NO_BACKSLASH_ESCAPES server comes back as the same value.
    const crafted = "x\\' OR SLEEP(5) OR 'é\n";
    expect((await query('maria', 'SELECT ? AS v, ? AS n', [crafted, -1])).body.result?.rows).toEqual([[crafted, -1]]);

    await my.query('UPDATE orders SET amount = amount + 1 WHERE id = 1');
    expect(await mariaSnapshot(my, myDb)).not.toEqual(before);
  });
});
