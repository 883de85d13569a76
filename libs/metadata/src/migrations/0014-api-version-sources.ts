import type { Kysely } from 'kysely';

/**
 * Where a version's specification came from (issue 11 item 1, "refresh"): the URL it was fetched
 * from and, for a URL on a site's network, the connector whose agent fetched it. Empty for a version
 * uploaded as text. Additive: versions registered before keep no source and cannot be refreshed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_versions').addColumn('source_url', 'text').execute();
  await db.schema.alterTable('api_versions').addColumn('source_connector_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_versions').dropColumn('source_connector_id').execute();
  await db.schema.alterTable('api_versions').dropColumn('source_url').execute();
}
