import { sql, type Kysely } from 'kysely';

/**
 * Definitions (issue 10): an integration as a versioned document. A version is immutable (a
 * trigger refuses any UPDATE) and content-addressed: the same content saved twice is one version.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('definitions')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    // Also a call step's target and part of run workflow ids: the same alphabet as @vansales/definitions' CallStep.
    .addColumn('id', 'text', (c) => c.notNull().check(sql`id ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`status in ('active', 'archived')`),
    )
    .addColumn('published_version', 'integer')
    .addColumn('published_at', 'timestamptz')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('definitions_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createTable('definition_versions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('definition_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version > 0`))
    // sha256 (hex) of the canonical JSON of the parsed document (@vansales/definitions hash.ts).
    .addColumn('hash', 'text', (c) => c.notNull().check(sql`hash ~ '^[0-9a-f]{64}$'`))
    .addColumn('document', 'jsonb', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('definition_versions_pk', ['tenant_id', 'definition_id', 'version'])
    .addUniqueConstraint('definition_versions_content', ['tenant_id', 'definition_id', 'hash'])
    .addForeignKeyConstraint(
      'definition_versions_definition',
      ['tenant_id', 'definition_id'],
      'definitions',
      ['tenant_id', 'id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  // A run is pinned to a version: rewriting one in place would change what a pinned run replays.
  await sql`
    create function definition_versions_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'definition versions are immutable: save a new version instead';
    end $$`.execute(db);
  await sql`
    create trigger definition_versions_immutable before update on definition_versions
    for each row execute function definition_versions_immutable()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('definition_versions').execute();
  await sql`drop function if exists definition_versions_immutable()`.execute(db);
  await db.schema.dropTable('definitions').execute();
}
