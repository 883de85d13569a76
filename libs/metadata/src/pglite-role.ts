import { sql, type Kysely } from 'kysely';

/**
 * The role the embedded PGlite store's one connection acts as after its migrations. PGlite's only
 * login is a superuser, and a superuser bypasses row-level security (migration 0024): the tenant
 * policies would be decoration. This role owns nothing, is not a superuser and cannot bypass
 * row-level security, so the policies hold on PGlite as they do for the gateway's own login on
 * PostgreSQL. It gets what the repositories use and no more: rows (SELECT, INSERT, UPDATE, DELETE)
 * and sequences, not TRUNCATE and not DDL (migrations run before, as the superuser).
 *
 * Not a boundary against code in the process (its session user may RESET ROLE, as the audit tests'
 * tampering does): the second wall against a query that forgot its tenant predicate.
 */
export const PGLITE_APP_ROLE = 'vsc_app';

export async function actAsAppRole<DB>(db: Kysely<DB>): Promise<void> {
  const role = sql.id(PGLITE_APP_ROLE);
  // A folder opened before has the role already (roles live in the cluster, kept in the data folder).
  await sql`DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sql.lit(PGLITE_APP_ROLE)}) THEN
      CREATE ROLE ${role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
  END $$`.execute(db);
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const schema = sql.id(rows[0]!.schema);
  // Again on every open: a migration since the last one may have added tables.
  await sql`GRANT USAGE ON SCHEMA ${schema} TO ${role}`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`.execute(db);
  await sql`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`.execute(db);
  await sql`SET ROLE ${role}`.execute(db);
}
