import { sql, type Kysely } from 'kysely';

/**
 * Signed agent updates (issue 13 §5). The platform operator registers a release of the mini connector
 * (`agent_releases`: its SHA256SUMS and the release key's Ed25519 signature over them, as
 * `./vsc release agent` wrote them) and uploads its executables (`agent_release_files`: one per
 * platform, checked against the sums on upload; the bytes live in the buffer's store under
 * `agent-releases/`, in chunks). A tenant's owner or admin approves one version for its agents
 * (`tenant_agent_versions`). Nothing here is trusted by the agent: it verifies the signature itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agent_releases')
    .addColumn('version', 'text', (c) =>
      c.primaryKey().check(sql`version ~ '^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]{1,40})?$'`),
    )
    .addColumn('sums', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('agent_release_files')
    .addColumn('version', 'text', (c) => c.notNull().references('agent_releases.version').onDelete('cascade'))
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull().check(sql`sha256 ~ '^[0-9a-f]{64}$'`))
    .addColumn('size', 'bigint', (c) => c.notNull().check(sql`size > 0`))
    .addColumn('chunks', 'integer', (c) => c.notNull().check(sql`chunks > 0`))
    .addColumn('uploaded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('agent_release_files_pk', ['version', 'platform'])
    .execute();
  await db.schema
    .createTable('tenant_agent_versions')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
    .addColumn('version', 'text', (c) => c.notNull().references('agent_releases.version'))
    .addColumn('approved_by', 'text', (c) => c.notNull())
    .addColumn('approved_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('tenant_agent_versions').execute();
  await db.schema.dropTable('agent_release_files').execute();
  await db.schema.dropTable('agent_releases').execute();
}
