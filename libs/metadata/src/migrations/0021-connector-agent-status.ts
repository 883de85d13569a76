import type { Kysely } from 'kysely';

/**
 * What a connector's agent said at its last hello (its version and the names of its databases),
 * kept so the console can show them while the agent is offline too, and on every gateway node of a
 * cluster (the hello reached one). `last_seen_at` (0001) is now also set when the agent leaves.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('connectors')
    .addColumn('agent_version', 'text')
    // JSON array of database names (names only: never a host, user or credential).
    .addColumn('agent_databases', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connectors').dropColumn('agent_version').dropColumn('agent_databases').execute();
}
