import type { Kysely } from 'kysely';

/**
 * Bytes each tenant has put in the buffer, one row per chunk (a rewritten chunk replaces its row),
 * so quotas hold across restarts and across gateway nodes. A row counts until its object expires.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('buffer_usage')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('object_id', 'text', (c) => c.notNull())
    .addColumn('chunk_index', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('buffer_usage_pk', ['tenant_id', 'object_id', 'chunk_index'])
    .execute();
  await db.schema.createIndex('buffer_usage_expiry').on('buffer_usage').columns(['tenant_id', 'expires_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('buffer_usage').execute();
}
