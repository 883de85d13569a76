import { chmodSync, mkdirSync } from 'node:fs';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import { Pool } from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Database } from './schema';
import { migrationProvider } from './migrations';
import { pglitePool } from './pglite-pool';
import { actAsAppRole } from './pglite-role';
import { applyTenantScope } from './tenant-scope';

export type MetadataDb = Kysely<Database>;

/** How the metadata store's connections name themselves in pg_stat_activity. */
export const METADATA_APPLICATION_NAME = 'vansales-metadata';

export type MetadataTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dir?: string };

/** Opens the metadata store and brings its schema to the latest migration. */
export async function openMetadataDb(target: MetadataTarget): Promise<MetadataDb> {
  let db: MetadataDb;
  if (target.kind === 'postgres') {
    const pool = new Pool({ connectionString: target.url, max: 10, application_name: METADATA_APPLICATION_NAME });
    // When PostgreSQL restarts, the pool emits each idle client's error: with no listener Node
    // throws it, and a gateway that only sat idle would die. The pool has already dropped that
    // client; the next query connects again (and fails clearly while the server is still down).
    pool.on('error', () => undefined);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, onReserveConnection: applyTenantScope }) });
  } else {
    // Keys, bindings and the audit chain: for this user only.
    if (target.dir) mkdirSync(target.dir, { recursive: true, mode: 0o700 });
    const pglite = target.dir ? new PGlite(target.dir) : new PGlite();
    await pglite.waitReady;
    // PGlite leaves its data folder 0750 (initdb's group-read mode); the gateway refuses to start
    // on a folder open to others, so it goes back to the owner-only mode PostgreSQL also accepts.
    if (target.dir) chmodSync(target.dir, 0o700);
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: pglitePool(pglite), onReserveConnection: applyTenantScope }),
    });
  }
  await migrateToLatest(db);
  // PGlite's one login is a superuser, which row-level security never applies to: its one connection
  // goes on as a lesser role (PostgreSQL's gateway logs in as one of its own, see ./vsc up).
  if (target.kind === 'pglite') await actAsAppRole(db);
  return db;
}

export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`metadata migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The value of VSC_METADATA_DIR that asks for an in-memory store. */
export const IN_MEMORY_METADATA = ':memory:';

/**
 * PostgreSQL when DATABASE_URL is set, else PGlite in VSC_METADATA_DIR. An in-memory store only
 * when asked for by name (`:memory:`): a store that forgets keys and revocations on restart is
 * never what an unset setting should mean.
 */
export function metadataTarget(config: { DATABASE_URL?: string; VSC_METADATA_DIR?: string }): MetadataTarget {
  if (config.DATABASE_URL) return { kind: 'postgres', url: config.DATABASE_URL };
  if (!config.VSC_METADATA_DIR)
    throw new Error(
      `VSC_METADATA_DIR: set a folder for the embedded metadata store (or ${IN_MEMORY_METADATA} for one that is lost on exit), or DATABASE_URL`,
    );
  return config.VSC_METADATA_DIR === IN_MEMORY_METADATA
    ? { kind: 'pglite' }
    : { kind: 'pglite', dir: config.VSC_METADATA_DIR };
}
