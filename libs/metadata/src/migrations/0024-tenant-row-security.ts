import { sql, type Kysely } from 'kysely';

/**
 * Row-level security on every table with a `tenant_id` column (issue 12 §1): the second wall behind
 * the repositories' tenant predicates. A connection whose `vsc.tenant_id` setting is empty or unset
 * (platform jobs, operator routes, agent key lookups) sees every row; one scoped to a tenant (the
 * gateway's tenant routes, see tenant-scope.ts) sees and writes only that tenant's rows, even through a
 * query that forgot its predicate. FORCE makes the tables' owner (the gateway's login) subject too;
 * a superuser or a BYPASSRLS role still bypasses every policy, so the gateway must not log in as one.
 * The tables are found in the catalogue, so a table added before this migration cannot be missed;
 * a table added later needs its own policy (the metadata test checks every tenant_id table has one).
 */
export const TENANT_POLICY = 'tenant_isolation';

const tenantTables = async (db: Kysely<unknown>): Promise<string[]> => {
  const { rows } = await sql<{ table_name: string }>`
    SELECT c.table_name FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
    ORDER BY c.table_name`.execute(db);
  return rows.map((r) => r.table_name);
};

export async function up(db: Kysely<unknown>): Promise<void> {
  // `true`: a missing setting reads as NULL instead of raising (a connection never scoped).
  const scope = sql`current_setting('vsc.tenant_id', true)`;
  const visible = sql`(${scope} IS NULL OR ${scope} = '' OR tenant_id = ${scope})`;
  for (const table of await tenantTables(db)) {
    const t = sql.table(table);
    await sql`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`.execute(db);
    await sql`CREATE POLICY ${sql.id(TENANT_POLICY)} ON ${t} USING ${visible} WITH CHECK ${visible}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of await tenantTables(db)) {
    const t = sql.table(table);
    await sql`DROP POLICY IF EXISTS ${sql.id(TENANT_POLICY)} ON ${t}`.execute(db);
    await sql`ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`.execute(db);
    await sql`ALTER TABLE ${t} DISABLE ROW LEVEL SECURITY`.execute(db);
  }
}
