import { sql, type Kysely } from 'kysely';

/**
 * What the console's "Agent updates" page shows a tenant (issue 13 §5):
 * - `agent_releases.notes`: what the platform operator says changed, read before approving a version.
 *   Not part of the signed sums (the agent never reads them); bounded so a release row stays small.
 * - `connectors.agent_platform`: the platform the agent announced at its last hello. Only a single
 *   executable announces one (it can update itself); null for an agent built from the sources, which
 *   is never offered an update, so the page can say so instead of "offered".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('agent_releases')
    .addColumn('notes', 'text', (c) => c.check(sql`char_length(notes) <= 4000`))
    .execute();
  await db.schema.alterTable('connectors').addColumn('agent_platform', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connectors').dropColumn('agent_platform').execute();
  await db.schema.alterTable('agent_releases').dropColumn('notes').execute();
}
