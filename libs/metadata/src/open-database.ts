import { mkdirSync } from 'node:fs';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import { Pool } from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Database } from './schema';
import { migrationProvider } from './migrations';
import { pglitePool } from './pglite-pool';

export type MetadataDb = Kysely<Database>;

export type MetadataTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dir?: string };

/** Opens the metadata store and brings its schema to the latest migration. */
export async function openMetadataDb(target: MetadataTarget): Promise<MetadataDb> {
  let db: MetadataDb;
  if (target.kind === 'postgres') {
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new Pool({ connectionString: target.url, max: 10 }) }),
    });
  } else {
    if (target.dir) mkdirSync(target.dir, { recursive: true });
    const pglite = target.dir ? new PGlite(target.dir) : new PGlite();
    await pglite.waitReady;
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(pglite) }) });
  }
  await migrateToLatest(db);
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

export function metadataTarget(config: { DATABASE_URL?: string; VSC_METADATA_DIR?: string }): MetadataTarget {
  return config.DATABASE_URL
    ? { kind: 'postgres', url: config.DATABASE_URL }
    : { kind: 'pglite', dir: config.VSC_METADATA_DIR };
}
