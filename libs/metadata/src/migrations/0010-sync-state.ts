import { type Kysely } from 'kysely';

/**
 * State of bi-directional sync steps (issue 10, pattern 3.4.3): per (tenant, definition, sync step)
 * and row key, the hash of the row both sides held after the last successful sync. It is what
 * tells an insert from a delete and a change from its echo on the next run. Keys and hashes only:
 * no row value is stored here (a key is the row's key columns as JSON).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sync_state')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('definition_id', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('row_key', 'text', (c) => c.notNull())
    .addColumn('row_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_state_pk', ['tenant_id', 'definition_id', 'step_id', 'row_key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sync_state').execute();
}
