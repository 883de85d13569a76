import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { sharedDataDir } from './paths';
import { InfraError, InfraErrorCode } from './errors';
import type { ServiceContext } from './service';
import { mariadbRoot } from './services/mariadb';
import { postgresUrl } from './services/postgres';
import { Client as PgClient } from 'pg';

/** Row counts of Sakila as shipped, used to tell a complete load from a partial one. */
const SAKILA_COUNTS = { film: 1000, actor: 200, customer: 599, rental: 16044, payment: 16049 };

async function sakilaComplete(ctx: ServiceContext): Promise<boolean> {
  const conn = await createConnection(mariadbRoot(ctx));
  try {
    for (const [table, count] of Object.entries(SAKILA_COUNTS)) {
      const [rows] = (await conn
        .query(`SELECT COUNT(*) AS n FROM sakila.${table}`)
        .catch(() => [[{ n: -1 }]])) as unknown as [{ n: number }[]];
      if (Number(rows[0]?.n) !== count) return false;
    }
    return true;
  } finally {
    await conn.end();
  }
}

function runSqlFile(ctx: ServiceContext, file: string): void {
  const root = mariadbRoot(ctx);
  const result = spawnSync(
    'mariadb',
    ['-h', root.host, '-P', String(root.port), '-u', root.user, '--default-character-set=utf8mb4'],
    {
      input: readFileSync(file),
      // The password by environment, never on the command line.
      env: { ...process.env, MYSQL_PWD: root.password },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.status !== 0) {
    throw new InfraError(
      InfraErrorCode.serviceFailed,
      `loading ${file} failed: ${result.stderr.toString().trim().split('\n').slice(-3).join('\n')}`,
    );
  }
}

/** Loads Sakila from shared/data into MariaDB unless a complete copy is already there. */
export async function ensureSakila(ctx: ServiceContext): Promise<'loaded' | 'present' | 'missing-data'> {
  if (await sakilaComplete(ctx)) return 'present';
  const data = sharedDataDir();
  const dir = data && join(data, 'sakila-mysql');
  if (!dir || !existsSync(join(dir, 'sakila-schema.sql'))) return 'missing-data';
  ctx.log('loading Sakila into MariaDB (first run only)');
  runSqlFile(ctx, join(dir, 'sakila-schema.sql'));
  runSqlFile(ctx, join(dir, 'sakila-data.sql'));
  if (!(await sakilaComplete(ctx)))
    throw new InfraError(InfraErrorCode.serviceFailed, 'Sakila loaded but its row counts do not match');
  return 'loaded';
}

/** A small stand-in when shared/data is not beside the clone: the same shape as Sakila's film table. */
export async function ensureFallbackDemo(ctx: ServiceContext): Promise<void> {
  const conn = await createConnection(mariadbRoot(ctx));
  try {
    await conn.query('CREATE DATABASE IF NOT EXISTS sakila');
    await conn.query(
      'CREATE TABLE IF NOT EXISTS sakila.film (film_id SMALLINT UNSIGNED PRIMARY KEY, title VARCHAR(128) NOT NULL, release_year YEAR, rental_rate DECIMAL(4,2) NOT NULL, last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)',
    );
    await conn.query(
      "INSERT IGNORE INTO sakila.film (film_id, title, release_year, rental_rate) VALUES (1,'ACADEMY DINOSAUR',2006,0.99),(2,'ACE GOLDFINGER',2006,4.99),(3,'ADAPTATION HOLES',2006,2.99)",
    );
  } finally {
    await conn.end();
  }
}

/**
 * A least-privilege account for the demo agent: SELECT on the demo schema only.
 * The password is generated per state folder and written only into the agent's 0600 config.
 */
export async function ensureReadOnlyUser(
  ctx: ServiceContext,
  user: string,
  password: string,
  schema: string,
): Promise<void> {
  const conn = await createConnection(mariadbRoot(ctx));
  try {
    const pw = conn.escape(password);
    await conn.query(`CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY ${pw}`);
    await conn.query(`ALTER USER '${user}'@'127.0.0.1' IDENTIFIED BY ${pw}`);
    await conn.query(`GRANT SELECT, SHOW VIEW ON \`${schema}\`.* TO '${user}'@'127.0.0.1'`);
  } finally {
    await conn.end();
  }
}

/** Row counts of Pagila as shipped (payment is partitioned; counted through its parent). */
const PAGILA_COUNTS = { film: 1000, actor: 200, customer: 599, rental: 16044, payment: 16049 };

async function pagilaComplete(ctx: ServiceContext): Promise<boolean> {
  const client = new PgClient({ connectionString: postgresUrl(ctx, 'pagila') });
  try {
    await client.connect();
  } catch {
    return false;
  }
  try {
    for (const [table, count] of Object.entries(PAGILA_COUNTS)) {
      const res = await client
        .query(`SELECT COUNT(*)::int AS n FROM public.${table}`)
        .catch(() => ({ rows: [{ n: -1 }] }));
      if (res.rows[0]?.n !== count) return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

function runPsql(ctx: ServiceContext, database: string, file: string): void {
  const result = spawnSync(
    'psql',
    [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      '127.0.0.1',
      '-p',
      String(ctx.ports.postgres),
      '-U',
      'postgres',
      '-d',
      database,
      '-f',
      file,
    ],
    {
      // The password by environment, never on the command line.
      env: { ...process.env, PGPASSWORD: ctx.secrets.postgresPassword },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.status !== 0) {
    throw new InfraError(
      InfraErrorCode.serviceFailed,
      `loading ${file} failed: ${result.stderr.toString().trim().split('\n').slice(-3).join('\n')}`,
    );
  }
}

/** Loads Pagila from shared/data into the PostgreSQL database `pagila` unless a complete copy is there. */
export async function ensurePagila(ctx: ServiceContext): Promise<'loaded' | 'present' | 'missing-data'> {
  if (await pagilaComplete(ctx)) return 'present';
  const data = sharedDataDir();
  const dir = data && join(data, 'pagila-postgres');
  if (!dir || !existsSync(join(dir, 'pagila-schema.sql'))) return 'missing-data';
  ctx.log('loading Pagila into PostgreSQL (first run only)');
  const admin = new PgClient({ connectionString: postgresUrl(ctx) });
  await admin.connect();
  try {
    await admin.query('DROP DATABASE IF EXISTS pagila WITH (FORCE)');
    await admin.query('CREATE DATABASE pagila');
  } finally {
    await admin.end();
  }
  runPsql(ctx, 'pagila', join(dir, 'pagila-schema.sql'));
  runPsql(ctx, 'pagila', join(dir, 'pagila-data.sql'));
  if (!(await pagilaComplete(ctx)))
    throw new InfraError(InfraErrorCode.serviceFailed, 'Pagila loaded but its row counts do not match');
  return 'loaded';
}
