import type { Kysely } from 'kysely';

/**
 * Where a registered API can be reached from (issue 11 items 3 and 6, the marketplace's
 * "accessibility: site, internet or both"): `site` (the connector whose agent calls it, and its name
 * in that site's policy), `internet` (the base URL the cloud calls), or `both`. Kept with the API,
 * not a version: the same contract is served at the same places across versions. Additive: APIs
 * registered before have none, and only steps that give their endpoint can call them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('apis')
    .addColumn('accessibility', 'text')
    .addColumn('site_connector_id', 'text')
    .addColumn('site_api', 'text')
    .addColumn('internet_base_url', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('apis')
    .dropColumn('internet_base_url')
    .dropColumn('site_api')
    .dropColumn('site_connector_id')
    .dropColumn('accessibility')
    .execute();
}
