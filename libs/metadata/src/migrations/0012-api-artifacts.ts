import { sql, type Kysely } from 'kysely';

/**
 * The SDK factory's artifact registry (issue 11 item 4). An API (`apis`) has numbered versions
 * (`api_versions`: 1, 2, …; a new normalized spec makes the next one, the same spec again does not).
 * Artifacts (the normalized spec, the manifest, later SDK bundles) are content-addressed blobs in the
 * buffer's store under `artifacts/<tenant>/`; `api_artifacts` holds each one's hash, size and the
 * factory's Ed25519 signature, `api_version_artifacts` says which artifact plays which role in a
 * version. Every key starts with the tenant: another tenant's hash or API reads as absent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('apis')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    // Named by definition steps (`operation.apiId`): the same alphabet as a definition id.
    .addColumn('id', 'text', (c) => c.notNull().check(sql`id ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('apis_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema
    .createTable('api_artifacts')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('sha256', 'text', (c) => c.notNull().check(sql`sha256 ~ '^[0-9a-f]{64}$'`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('spec', 'manifest', 'bundle')`))
    .addColumn('size', 'bigint', (c) => c.notNull().check(sql`size >= 0`))
    // Ed25519 over the artifact's statement (tenant, kind, hash, size); key_id names the public key.
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('api_artifacts_pk', ['tenant_id', 'sha256'])
    .execute();
  await db.schema
    .createTable('api_versions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('api_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version > 0`))
    // sha256 of the normalized spec (its canonical JSON): what makes two uploads the same version.
    .addColumn('spec_hash', 'text', (c) => c.notNull())
    .addColumn('manifest_hash', 'text', (c) => c.notNull())
    /** The uploaded document's format (`2.0`, `3.0.3`, `3.1.0`): a 2.0 spec is stored converted. */
    .addColumn('source_format', 'text', (c) => c.notNull())
    .addColumn('api_version', 'text', (c) => c.notNull())
    .addColumn('operation_count', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('api_versions_pk', ['tenant_id', 'api_id', 'version'])
    .addUniqueConstraint('api_versions_content', ['tenant_id', 'api_id', 'spec_hash'])
    .addForeignKeyConstraint('api_versions_api', ['tenant_id', 'api_id'], 'apis', ['tenant_id', 'id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint('api_versions_spec', ['tenant_id', 'spec_hash'], 'api_artifacts', ['tenant_id', 'sha256'])
    .addForeignKeyConstraint('api_versions_manifest', ['tenant_id', 'manifest_hash'], 'api_artifacts', [
      'tenant_id',
      'sha256',
    ])
    .execute();
  await db.schema
    .createTable('api_version_artifacts')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('api_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    // `spec`, `manifest`, `bundle:<name>` (one SDK bundle per target or operation).
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role ~ '^(spec|manifest|bundle:[A-Za-z0-9._-]{1,128})$'`))
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('api_version_artifacts_pk', ['tenant_id', 'api_id', 'version', 'role'])
    .addForeignKeyConstraint(
      'api_version_artifacts_version',
      ['tenant_id', 'api_id', 'version'],
      'api_versions',
      ['tenant_id', 'api_id', 'version'],
      (fk) => fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint('api_version_artifacts_artifact', ['tenant_id', 'sha256'], 'api_artifacts', [
      'tenant_id',
      'sha256',
    ])
    .execute();
  // A definition step pins an API version: rewriting one in place would change what it calls.
  await sql`
    create function api_versions_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'API versions are immutable: register a new version instead';
    end $$`.execute(db);
  await sql`
    create trigger api_versions_immutable before update on api_versions
    for each row execute function api_versions_immutable()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('api_version_artifacts').execute();
  await db.schema.dropTable('api_versions').execute();
  await sql`drop function if exists api_versions_immutable()`.execute(db);
  await db.schema.dropTable('api_artifacts').execute();
  await db.schema.dropTable('apis').execute();
}
