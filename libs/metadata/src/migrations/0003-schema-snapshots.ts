import { sql, type Kysely } from 'kysely';

/** Versioned snapshots of the databases agents discover (the schema registry). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('schema_snapshots')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('connector_id', 'text', (c) => c.notNull().references('connectors.id').onDelete('cascade'))
    .addColumn('database_name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version > 0`))
    .addColumn('snapshot', 'jsonb', (c) => c.notNull())
    // SHA-256 (hex) of the snapshot's canonical JSON without row estimates: equal structure, equal hash.
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('schema_snapshots_version', ['connector_id', 'database_name', 'version'])
    .execute();
  await db.schema
    .createIndex('schema_snapshots_tenant')
    .on('schema_snapshots')
    .columns(['tenant_id', 'connector_id', 'database_name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('schema_snapshots').execute();
}
