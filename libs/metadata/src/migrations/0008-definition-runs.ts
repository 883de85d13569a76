import { sql, type Kysely } from 'kysely';

/**
 * Runs of definitions started through the control plane, and the control flags that pause or stop
 * them (issue 10). Temporal holds each run's state; a row here holds what Temporal does not: who
 * started it, by which trigger, under which idempotency key (unique per tenant and definition, so a
 * retried POST finds its run), and the last status read (a cache for listing without asking
 * Temporal about every run).
 *
 * A control flag is at most one per (tenant, scope, target); changing it replaces the row and each
 * change is an audit event. No foreign keys to definitions: those tables come from another migration.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('definition_runs')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('definition_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('run_key', 'text', (c) => c.notNull())
    .addColumn('trigger_kind', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text')
    /** sha256 of the request an idempotency key was first used with (the same key with another body is refused). */
    .addColumn('request_hash', 'text')
    .addColumn('started_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('running'))
    .addColumn('status_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('definition_runs_pk', ['tenant_id', 'workflow_id'])
    .addUniqueConstraint('definition_runs_idempotency', ['tenant_id', 'definition_id', 'idempotency_key'])
    .execute();
  await db.schema
    .createIndex('definition_runs_by_definition')
    .on('definition_runs')
    .columns(['tenant_id', 'definition_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('control_flags')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope IN ('definition', 'connector', 'tenant')`))
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state IN ('paused', 'stopped')`))
    .addColumn('set_by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('set_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('control_flags_pk', ['tenant_id', 'scope', 'target_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('control_flags').execute();
  await db.schema.dropTable('definition_runs').execute();
}
