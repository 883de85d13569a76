import { sql, type Kysely } from 'kysely';

/**
 * Per-tenant quota overrides (issue 12 section 1): an owner or admin raises (or lowers) a tenant's
 * limits through PUT /v1/tenants/:t/quotas. Only the limits a tenant overrides are stored (JSON, so a
 * new quota needs no migration); the others follow the gateway's defaults as they change.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tenant_quotas')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
    .addColumn('limits', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('tenant_quotas').execute();
}
