import { sql, type Kysely } from 'kysely';

/**
 * Every API operation call, audited (issue 11 item 3): who (tenant, definition, run, step), what
 * (API, version, operation key), where (cloud or a site's connector), how it went (status, sizes,
 * duration). There is deliberately no column for parameters or bodies: a call's data never reaches
 * the audit. Also `credentials.last_used_at`, what the owner sees of a credential's use (additive).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_calls')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('definition_id', 'text')
    .addColumn('run_id', 'text')
    .addColumn('step_id', 'text')
    .addColumn('api_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version > 0`))
    .addColumn('operation_key', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('cloud', 'site')`))
    .addColumn('connector_id', 'text')
    /** The HTTP status of the answer, or 0 when none came (refused, timed out, transport failure). */
    .addColumn('status', 'integer', (c) => c.notNull().check(sql`status >= 0 and status < 1000`))
    .addColumn('request_bytes', 'bigint', (c) => c.notNull().check(sql`request_bytes >= 0`))
    .addColumn('response_bytes', 'bigint', (c) => c.notNull().check(sql`response_bytes >= 0`))
    .addColumn('duration_ms', 'integer', (c) => c.notNull().check(sql`duration_ms >= 0`))
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Listings are per tenant, newest first, paged by (at, id).
  await db.schema.createIndex('api_calls_tenant_at').on('api_calls').columns(['tenant_id', 'at', 'id']).execute();
  await db.schema.alterTable('credentials').addColumn('last_used_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('credentials').dropColumn('last_used_at').execute();
  await db.schema.dropTable('api_calls').execute();
}
