import { sql, type Kysely } from 'kysely';

/**
 * Cursors of incremental sources (issue 10: "the last value is kept per definition between runs"):
 * per definition and step, the highest cursor value a completed run copied, and what the step read
 * then (`source_key`): a version that reads another table under the same step id starts afresh.
 * Values are JSON (a timestamp as ISO text, a number, a decimal as text), never a row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('source_cursors')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('definition_id', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('source_cursors_pk', ['tenant_id', 'definition_id', 'step_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('source_cursors').execute();
}
