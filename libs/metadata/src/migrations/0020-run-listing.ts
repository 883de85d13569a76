import type { Kysely } from 'kysely';

/**
 * The tenant-wide runs list (issue 12 §2 Runs): the console lists every run of a tenant, newest
 * first, filtered by status, definition, connector and time, and pages by keyset (created_at,
 * workflow_id) so page N costs what page 1 costs with 10,000+ runs.
 *
 * - `definition_runs_by_tenant_time`: the unfiltered list and the time range, in index order.
 * - `definition_runs_by_tenant_status`: the status filter (the cached status column).
 * - `definition_run_connectors`: the connectors a run's document names, one row each (a run may
 *   touch several), so "runs on connector X" is an index lookup rather than a scan of documents.
 *   Runs recorded before this migration have no rows here: they are listed, but not under a
 *   connector filter.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('definition_runs_by_tenant_time')
    .on('definition_runs')
    .columns(['tenant_id', 'created_at desc', 'workflow_id desc'])
    .execute();
  await db.schema
    .createIndex('definition_runs_by_tenant_status')
    .on('definition_runs')
    .columns(['tenant_id', 'status', 'created_at desc', 'workflow_id desc'])
    .execute();
  await db.schema
    .createTable('definition_run_connectors')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('connector_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('definition_run_connectors_pk', ['tenant_id', 'connector_id', 'workflow_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('definition_run_connectors').execute();
  await db.schema.dropIndex('definition_runs_by_tenant_status').execute();
  await db.schema.dropIndex('definition_runs_by_tenant_time').execute();
}
