import { performance } from 'node:perf_hooks';
import { createConnection, type Connection } from 'mysql2/promise';
import { Client as PgClient } from 'pg';
import { services } from './support';

/** Generated MariaDB tables the data-plane benchmarks move: made once, reused while intact. */

const GENERATOR_MARK = 'vsc-bench generated rows v1';

/**
 * Ten columns of the usual kinds, values computed from the sequence number so every run (and
 * every machine) has the same data; the number is cast to signed first, as the sequence
 * engine's is unsigned and `n * k - c` would overflow. The double is a multiple of 1/64, exactly representable, so
 * its text form is the same on both engines and checksums compare. Some NULLs, some quotes,
 * commas and a non-ASCII letter in the text, so CSV and escaping paths are exercised.
 */
const SOURCE_DDL = (table: string) => `CREATE TABLE ${table} (
  id BIGINT NOT NULL PRIMARY KEY,
  qty INT NOT NULL,
  big BIGINT NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  ratio DOUBLE NULL,
  code VARCHAR(64) NOT NULL,
  note VARCHAR(255) NULL,
  created_at DATETIME NOT NULL,
  day DATE NULL,
  active TINYINT(1) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='${GENERATOR_MARK}'`;

const SOURCE_FILL = (table: string, rows: number) => `INSERT INTO ${table}
SELECT
  n,
  (n * 7919) % 100000 - 50000,
  (n * 2654435761) % 1000000000000000,
  ((n * 48271) % 1000000000) / 100,
  IF(n % 17 = 0, NULL, ((n * 37) % 1000000) / 64e0 - 5000),
  CONCAT('C-', LPAD(HEX((n * 2654435761) % 4294967296), 8, '0')),
  IF(n % 29 = 0, NULL, CONCAT('Row ', n, IF(n % 10 = 0, ', "Zoë" said; ', ' '), LEFT(REPEAT(MD5(n), 6), n % 180))),
  TIMESTAMP('2020-01-01 00:00:00') + INTERVAL ((n * 7919) % 157680000) SECOND,
  IF(n % 23 = 0, NULL, DATE('2000-01-01') + INTERVAL (n % 10000) DAY),
  n % 3 = 0
FROM (SELECT CAST(seq AS SIGNED) AS n FROM seq_1_to_${rows}) s`;

export async function mariadb(database?: string): Promise<Connection> {
  return createConnection({ ...services.mariadb, ...(database ? { database } : {}), multipleStatements: false });
}

/**
 * Makes `database.table` hold exactly `rows` generated rows, reusing it when a previous run left it
 * complete (marked by the table comment and its row count).
 */
export async function ensureGeneratedTable(
  database: string,
  table: string,
  rows: number,
  log: (line: string) => void,
): Promise<void> {
  const conn = await mariadb();
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS ${database} CHARACTER SET utf8mb4`);
    await conn.query(`USE ${database}`);
    const [found] = (await conn.query(
      'SELECT TABLE_COMMENT AS mark FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [database, table],
    )) as unknown as [{ mark: string }[]];
    if (found[0]?.mark === GENERATOR_MARK) {
      const [[row]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [{ n: number }[]];
      if (Number(row!.n) === rows) {
        log(`source ${database}.${table} present with ${rows} rows; reused`);
        return;
      }
    }
    log(`generating ${database}.${table} (${rows} rows)`);
    const t0 = performance.now();
    await conn.query(`DROP TABLE IF EXISTS ${table}`);
    await conn.query(SOURCE_DDL(table));
    await conn.query(SOURCE_FILL(table, rows));
    log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await conn.end();
  }
}

// Verification: count and sum(id) on any table (works on whatever types a peer chose).

export interface Tally {
  rows: number;
  sumId: string;
}

export async function mariadbTally(database: string, table: string): Promise<Tally> {
  const conn = await mariadb(database);
  try {
    const [[row]] = (await conn.query(
      `SELECT COUNT(*) AS n, CAST(COALESCE(SUM(id), 0) AS CHAR) AS s FROM ${table}`,
    )) as unknown as [{ n: number; s: string }[]];
    return { rows: Number(row!.n), sumId: String(row!.s) };
  } finally {
    await conn.end();
  }
}

export async function pgTally(database: string, qualifiedTable: string): Promise<Tally> {
  const pg = new PgClient({ connectionString: services.postgresUrl(database) });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ n: string; s: string }>(
      `SELECT count(*)::text AS n, COALESCE(sum(id), 0)::text AS s FROM ${qualifiedTable}`,
    );
    return { rows: Number(rows[0]!.n), sumId: rows[0]!.s };
  } finally {
    await pg.end();
  }
}

export function checkTally(path: string, got: Tally, want: Tally): void {
  if (got.rows !== want.rows || got.sumId !== want.sumId) {
    throw new Error(
      `${path}: destination has ${got.rows} rows (sum of id ${got.sumId}), the source ${want.rows} (sum of id ${want.sumId})`,
    );
  }
}

export function pgAccess(database: string) {
  const url = new URL(services.postgresUrl(database));
  return {
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  };
}
