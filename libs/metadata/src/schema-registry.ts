import { createHash } from 'node:crypto';
import {
  diffSnapshots,
  SchemaSnapshot,
  sortSnapshot,
  stableJson,
  structuralSnapshot,
  type SchemaChange,
} from '@vansales/protocol';
import type { MetadataDb } from './open-database';

export interface SnapshotVersion {
  version: number;
  hash: string;
  createdAt: Date;
}
export interface StoredSnapshot extends SnapshotVersion {
  snapshot: SchemaSnapshot;
}

export class SchemaRegistryError extends Error {
  override name = 'SchemaRegistryError';
  constructor(
    readonly code: 'unknown-connector' | 'unknown-version',
    message: string,
  ) {
    super(message);
  }
}

/**
 * SHA-256 (hex) of a snapshot's structure: canonical JSON, sorted, without row estimates
 * (they move with the data, and a new row count is not a new schema).
 */
export function snapshotHash(snapshot: SchemaSnapshot): string {
  return createHash('sha256')
    .update(stableJson(structuralSnapshot(sortSnapshot(snapshot))))
    .digest('hex');
}

const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 5;

/**
 * The schema registry: discovered database structures, versioned 1, 2, 3... per connector and
 * database. A version is added only when the structure changed. Every read is tenant-scoped.
 */
export function createSchemaRegistry(db: MetadataDb) {
  const latest = (tenantId: string, connectorId: string, database: string) =>
    db
      .selectFrom('schema_snapshots')
      .select(['version', 'hash'])
      .where('tenant_id', '=', tenantId)
      .where('connector_id', '=', connectorId)
      .where('database_name', '=', database)
      .orderBy('version', 'desc')
      .limit(1);

  async function getSnapshot(
    tenantId: string,
    connectorId: string,
    database: string,
    version?: number,
  ): Promise<StoredSnapshot | undefined> {
    let q = db
      .selectFrom('schema_snapshots')
      .select(['version', 'hash', 'created_at', 'snapshot'])
      .where('tenant_id', '=', tenantId)
      .where('connector_id', '=', connectorId)
      .where('database_name', '=', database);
    q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
    const row = await q.executeTakeFirst();
    return (
      row && {
        version: row.version,
        hash: row.hash,
        createdAt: row.created_at,
        snapshot: SchemaSnapshot.parse(row.snapshot),
      }
    );
  }

  return {
    /**
     * Stores the snapshot as the next version unless its structure equals the latest version's.
     * Returns the version that now describes the database and whether it is new.
     */
    async recordSnapshot(
      tenantId: string,
      connectorId: string,
      database: string,
      snapshot: SchemaSnapshot,
    ): Promise<{ version: number; changed: boolean }> {
      const sorted = sortSnapshot(SchemaSnapshot.parse(snapshot));
      const hash = snapshotHash(sorted);
      const owner = await db
        .selectFrom('connectors')
        .select('id')
        .where('id', '=', connectorId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (!owner)
        throw new SchemaRegistryError('unknown-connector', `tenant ${tenantId} has no connector ${connectorId}`);
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute(async (trx) => {
            const last = await trx
              .selectFrom('schema_snapshots')
              .select(['version', 'hash'])
              .where('tenant_id', '=', tenantId)
              .where('connector_id', '=', connectorId)
              .where('database_name', '=', database)
              .orderBy('version', 'desc')
              .limit(1)
              .executeTakeFirst();
            if (last?.hash === hash) return { version: last.version, changed: false };
            const version = (last?.version ?? 0) + 1;
            await trx
              .insertInto('schema_snapshots')
              .values({
                tenant_id: tenantId,
                connector_id: connectorId,
                database_name: database,
                version,
                snapshot: JSON.stringify(sorted),
                hash,
              })
              .execute();
            return { version, changed: true };
          });
        } catch (err) {
          // Two recorders raced for the same next version: the unique key refused one; look again.
          if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= MAX_ATTEMPTS) throw err;
        }
      }
    },

    /** The latest version, or the one asked for; undefined when there is none (or not this tenant's). */
    getSnapshot,

    /** Every version of one connector's database, oldest first, without the snapshots. */
    async listVersions(tenantId: string, connectorId: string, database: string): Promise<SnapshotVersion[]> {
      const rows = await db
        .selectFrom('schema_snapshots')
        .select(['version', 'hash', 'created_at'])
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .where('database_name', '=', database)
        .orderBy('version', 'asc')
        .execute();
      return rows.map((r) => ({ version: r.version, hash: r.hash, createdAt: r.created_at }));
    },

    /** The latest version number, or undefined. */
    async latestVersion(tenantId: string, connectorId: string, database: string): Promise<number | undefined> {
      return (await latest(tenantId, connectorId, database).executeTakeFirst())?.version;
    },

    /** What changed from version `from` to version `to` (either order). */
    async diffVersions(
      tenantId: string,
      connectorId: string,
      database: string,
      from: number,
      to: number,
    ): Promise<SchemaChange[]> {
      const [a, b] = await Promise.all([
        getSnapshot(tenantId, connectorId, database, from),
        getSnapshot(tenantId, connectorId, database, to),
      ]);
      if (!a)
        throw new SchemaRegistryError(
          'unknown-version',
          `no version ${from} of ${database} on connector ${connectorId}`,
        );
      if (!b)
        throw new SchemaRegistryError('unknown-version', `no version ${to} of ${database} on connector ${connectorId}`);
      return diffSnapshots(a.snapshot, b.snapshot);
    },
  };
}
export type SchemaRegistry = ReturnType<typeof createSchemaRegistry>;
