/**
 * Benchmark: schema discovery of a generated database of many tables (target: 10,000 tables in
 * at most 10 s). Prints one JSON line per dialect on stdout; progress goes to stderr.
 * How to run: see bench/README.md. No assertion on time: the figures are the result.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { testServices } from '@vansales/test-kit';
import type { SchemaSnapshot } from '@vansales/protocol';
import { discoverSchema, type DiscoveryTarget } from '@vansales/connector-agent';

const TARGET_SECONDS = 10;
const RUNS = 3;
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
};
const PG_TABLES = option('pg-tables', 10_000);
const MY_TABLES = option('mysql-tables', 10_000);
const FRESH = flag('fresh');
const only = args.find((a) => a.startsWith('--only='))?.split('=')[1];

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const services = testServices();

/** Table i: a key, a few typed columns; every 3rd references table i-1, every 2nd has an index. */
const pgTable = (i: number) =>
  `CREATE TABLE t${i} (id integer PRIMARY KEY, name character varying(64) NOT NULL, amount numeric(10,2) NOT NULL DEFAULT 0, ` +
  `created_at timestamp with time zone NOT NULL DEFAULT now(), parent_id integer${i % 3 === 0 ? ` REFERENCES t${i - 1} (id)` : ''})` +
  (i % 2 === 0 ? `; CREATE INDEX t${i}_name ON t${i} (name)` : '');
const myTable = (i: number) =>
  `CREATE TABLE t${i} (id int NOT NULL PRIMARY KEY, name varchar(64) NOT NULL, amount decimal(10,2) NOT NULL DEFAULT 0, ` +
  `created_at timestamp NOT NULL DEFAULT current_timestamp(), parent_id int NULL` +
  (i % 2 === 0 ? `, KEY t${i}_name (name)` : '') +
  (i % 3 === 0 ? `, CONSTRAINT t${i}_parent FOREIGN KEY (parent_id) REFERENCES t${i - 1} (id)` : '') +
  `) ENGINE=InnoDB`;

function counts(s: SchemaSnapshot) {
  const tables = s.schemas.flatMap((x) => x.tables);
  return {
    tables: tables.length,
    columns: tables.reduce((n, t) => n + t.columns.length, 0),
    indexes: tables.reduce((n, t) => n + t.indexes.length, 0),
    foreign_keys: tables.reduce((n, t) => n + t.foreignKeys.length, 0),
  };
}

async function time<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 1000) / 1000;

async function measure(
  dialect: string,
  tableCount: number,
  target: DiscoveryTarget,
  floorQuery: string,
  floor: () => Promise<unknown>,
) {
  const runs: number[] = [];
  let snapshot: SchemaSnapshot | undefined;
  for (let r = 0; r < RUNS; r++) {
    const { seconds, value } = await time(() => discoverSchema({ ...target, statementTimeoutMs: 600_000 }));
    runs.push(seconds);
    snapshot = value;
    log(`${dialect}: discovery run ${r + 1}: ${seconds.toFixed(3)} s`);
  }
  const found = counts(snapshot!);
  const expectedFks = Math.floor(tableCount / 3);
  const expectedIndexes = tableCount + Math.floor(tableCount / 2) + (dialect === 'postgres' ? 0 : expectedFks);
  if (
    found.tables !== tableCount ||
    found.columns !== tableCount * 5 ||
    found.foreign_keys !== expectedFks ||
    found.indexes < tableCount + Math.floor(tableCount / 2)
  ) {
    throw new Error(
      `${dialect}: discovery found ${JSON.stringify(found)}, expected ${tableCount} tables, ${tableCount * 5} columns, ${expectedFks} foreign keys, ~${expectedIndexes} indexes`,
    );
  }
  const floors: number[] = [];
  for (let r = 0; r < RUNS; r++) floors.push((await time(floor)).seconds);
  const seconds = median(runs);
  const floorSeconds = median(floors);
  process.stdout.write(
    JSON.stringify({
      bench: 'schema-discovery',
      dialect,
      tables: found.tables,
      seconds: round(seconds),
      target_seconds: TARGET_SECONDS,
      ratio_to_target: round(seconds / TARGET_SECONDS),
      first_run_seconds: round(runs[0]!),
      runs: RUNS,
      floor_query: floorQuery,
      floor_seconds: round(floorSeconds),
      ratio_to_floor: round(seconds / floorSeconds),
      columns: found.columns,
      indexes: found.indexes,
      foreign_keys: found.foreign_keys,
      snapshot_json_bytes: Buffer.byteLength(JSON.stringify(snapshot)),
    }) + '\n',
  );
}

async function benchPostgres(): Promise<void> {
  const database = 'vsc_bench_schema';
  const admin = new Client({ connectionString: services.postgresUrl() });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
  let ready = false;
  if (exists && !FRESH) {
    const c = new Client({ connectionString: services.postgresUrl(database) });
    await c.connect();
    const n = Number(
      (
        await c.query(
          "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'",
        )
      ).rows[0].n,
    );
    await c.end();
    ready = n === PG_TABLES;
  }
  if (!ready) {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
    const c = new Client({ connectionString: services.postgresUrl(database) });
    await c.connect();
    const { seconds } = await time(async () => {
      // Batches of 500 tables per transaction: one transaction for all would run out of lock slots.
      for (let from = 1; from <= PG_TABLES; from += 500) {
        const to = Math.min(PG_TABLES, from + 499);
        const stmts: string[] = [];
        for (let i = from; i <= to; i++) stmts.push(pgTable(i));
        await c.query(`BEGIN; ${stmts.join('; ')}; COMMIT`);
      }
      await c.query('ANALYZE');
    });
    await c.end();
    log(`postgres: generated ${PG_TABLES} tables in ${seconds.toFixed(1)} s`);
  }
  await admin.end();

  const url = new URL(services.postgresUrl(database));
  const target: DiscoveryTarget = {
    dialect: 'postgres',
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  };
  const floorClient = new Client({ connectionString: services.postgresUrl(database) });
  await floorClient.connect();
  const floorQuery =
    "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','v','m','p','f') AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";
  try {
    await measure('postgres', PG_TABLES, target, floorQuery, () => floorClient.query(floorQuery));
    // information_schema.columns, the portable spelling, for reference (it checks privileges per row).
    const isFloor = await time(() =>
      floorClient.query("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'"),
    );
    log(
      `postgres: SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public': ${isFloor.seconds.toFixed(3)} s`,
    );
  } finally {
    await floorClient.end();
  }
}

async function benchMariadb(): Promise<void> {
  const database = 'vsc_bench_schema';
  const conn = await createConnection({ ...services.mariadb, multipleStatements: true });
  try {
    const [[row]] = (await conn.query(
      `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`,
      [database],
    )) as unknown as [{ n: number }[]];
    if (FRESH || Number(row?.n) !== MY_TABLES) {
      await conn.query(`DROP DATABASE IF EXISTS ${database}`);
      await conn.query(`CREATE DATABASE ${database}`);
      await conn.query(`USE ${database}`);
      const { seconds } = await time(async () => {
        for (let from = 1; from <= MY_TABLES; from += 250) {
          const to = Math.min(MY_TABLES, from + 249);
          const stmts: string[] = [];
          for (let i = from; i <= to; i++) stmts.push(myTable(i));
          await conn.query(stmts.join(';\n'));
          if (to % 2000 === 0) log(`mariadb: ${to} tables`);
        }
      });
      log(`mariadb: generated ${MY_TABLES} tables in ${seconds.toFixed(1)} s`);
    }
    const floorQuery = `SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${database}'`;
    await measure('mysql', MY_TABLES, { dialect: 'mysql', ...services.mariadb, database }, floorQuery, () =>
      conn.query(floorQuery),
    );
  } finally {
    await conn.end();
  }
}

async function main(): Promise<void> {
  if (!only || only === 'postgres') await benchPostgres();
  if (!only || only === 'mysql') await benchMariadb();
}

main().catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
