import { sql, type Kysely } from 'kysely';

/**
 * Keys are bound to the agent's key pair instead of a machine-id header: the enrolled public key,
 * until when a key that has none may still enrol, and the single-use challenges agents sign (in the
 * store, so a challenge issued by one gateway node is checked by any other).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('agent_keys').addColumn('public_key', 'text').execute();
  await db.schema.alterTable('agent_keys').addColumn('enrolled_at', 'timestamptz').execute();
  await db.schema.alterTable('agent_keys').addColumn('enrol_until', 'timestamptz').execute();
  // Keys issued before this release get a month to enrol (their agents do it on the next connection).
  await sql`UPDATE agent_keys SET enrol_until = now() + interval '30 days' WHERE revoked_at IS NULL`.execute(db);
  await db.schema
    .createTable('agent_challenges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key_lookup', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('agent_challenges_key').on('agent_challenges').columns(['key_lookup']).execute();

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('audit_checkpoints_connector_seq')
    .on('audit_checkpoints')
    .columns(['connector_id', 'seq'])
    .execute();
  await sql`
    CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_checkpoints').execute();
  await db.schema.dropTable('agent_challenges').execute();
  await db.schema.alterTable('agent_keys').dropColumn('enrol_until').execute();
  await db.schema.alterTable('agent_keys').dropColumn('enrolled_at').execute();
  await db.schema.alterTable('agent_keys').dropColumn('public_key').execute();
}
