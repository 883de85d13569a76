import { sql, type Kysely } from 'kysely';

/**
 * The latest doctor report of each connector's agent (its warnings as JSON, bounded by the protocol:
 * one row per connector, replaced by each report, so a chatty or hostile agent cannot grow it), and
 * when each agent key last opened a session (the console's key list).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connector_doctor_reports')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'text', (c) => c.notNull())
    // The agent's clock (it may be skewed: that is one of the warnings) and the gateway's.
    .addColumn('checked_at', 'timestamptz', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('warnings', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('connector_doctor_reports_pk', ['tenant_id', 'connector_id'])
    .execute();
  await db.schema.alterTable('agent_keys').addColumn('last_used_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('agent_keys').dropColumn('last_used_at').execute();
  await db.schema.dropTable('connector_doctor_reports').execute();
}
