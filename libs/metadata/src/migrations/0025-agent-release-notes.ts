import { sql, type Kysely } from 'kysely';

/**
 * Release notes of an agent release (issue 13 §5, the console's "Agent updates" page): what the
 * platform operator says changed, shown to a tenant's people before they approve the version. Not
 * part of the signed sums (the agent never reads them); bounded so a release row stays small.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('agent_releases')
    .addColumn('notes', 'text', (c) => c.check(sql`char_length(notes) <= 4000`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('agent_releases').dropColumn('notes').execute();
}
