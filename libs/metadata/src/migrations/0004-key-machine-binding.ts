import { sql, type Kysely } from 'kysely';

/** A key is bound to the first machine that uses it; other machines are refused and recorded. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('agent_keys').addColumn('bound_machine_id', 'text').execute();
  await db.schema.alterTable('agent_keys').addColumn('bound_at', 'timestamptz').execute();
  await db.schema
    .createTable('agent_connection_refusals')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'text', (c) => c.notNull())
    .addColumn('key_lookup', 'text', (c) => c.notNull())
    .addColumn('machine_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('agent_connection_refusals_connector')
    .on('agent_connection_refusals')
    .columns(['tenant_id', 'connector_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agent_connection_refusals').execute();
  await db.schema.alterTable('agent_keys').dropColumn('bound_at').execute();
  await db.schema.alterTable('agent_keys').dropColumn('bound_machine_id').execute();
}
