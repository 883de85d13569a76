import type { CatalogQuery } from '@vansales/dataflow';

export interface PrivilegeReport {
  /** True when this login could change data or schema somewhere. */
  canWrite: boolean;
  /** What it could do, in the database's own words (e.g. "superuser", "INSERT on sakila.*"). */
  findings: string[];
  /** The statements that would create a read-only login for this database. */
  recommendation: string;
}

const WRITE_PRIVILEGES = [
  'ALL PRIVILEGES',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'INDEX',
  'REFERENCES',
  'CREATE VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EXECUTE',
  'TRIGGER',
  'EVENT',
  'LOCK TABLES',
  'FILE',
  'SUPER',
  'PROCESS',
  'RELOAD',
  'SHUTDOWN',
  'GRANT OPTION',
  'CREATE USER',
  'CREATE TEMPORARY TABLES',
];

/** PostgreSQL: role attributes, then table, schema and database privileges of the login. */
export async function postgresPrivileges(query: CatalogQuery, database: string): Promise<PrivilegeReport> {
  const findings: string[] = [];
  const role = await query<{
    rolsuper: boolean;
    rolcreaterole: boolean;
    rolcreatedb: boolean;
    rolreplication: boolean;
    rolbypassrls: boolean;
  }>(
    'SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = current_user',
  );
  const r = role[0];
  if (r?.rolsuper) findings.push('superuser');
  if (r?.rolcreaterole) findings.push('can create roles');
  if (r?.rolcreatedb) findings.push('can create databases');
  if (r?.rolreplication) findings.push('replication');
  const tables = await query<{ privilege: string; n: number }>(`
    SELECT p.privilege, count(*)::int AS n
    FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
    CROSS JOIN unnest(ARRAY['INSERT','UPDATE','DELETE','TRUNCATE']) AS p(privilege)
    WHERE c.relkind IN ('r','p','v','m','f') AND ns.nspname NOT IN ('pg_catalog','information_schema') AND ns.nspname NOT LIKE 'pg_toast%'
      AND has_table_privilege(c.oid, p.privilege)
    GROUP BY p.privilege ORDER BY p.privilege`);
  for (const t of tables) findings.push(`${t.privilege} on ${t.n} table(s)`);
  const schemas = await query<{ nspname: string }>(
    "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog','information_schema') AND nspname NOT LIKE 'pg_toast%' AND has_schema_privilege(oid, 'CREATE') ORDER BY 1",
  );
  for (const s of schemas) findings.push(`CREATE in schema ${s.nspname}`);
  const dbCreate = await query<{ ok: boolean }>("SELECT has_database_privilege(current_database(), 'CREATE') AS ok");
  if (dbCreate[0]?.ok) findings.push(`CREATE in database ${database}`);
  return {
    canWrite: findings.length > 0,
    findings,
    recommendation: [
      `CREATE ROLE vansales_reader LOGIN PASSWORD '<choose one>';`,
      `GRANT CONNECT ON DATABASE ${database} TO vansales_reader;`,
      `GRANT USAGE ON SCHEMA public TO vansales_reader;`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA public TO vansales_reader;`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO vansales_reader;`,
      `ALTER ROLE vansales_reader SET default_transaction_read_only = on;`,
    ].join('\n'),
  };
}

/** MySQL/MariaDB: the login's own grants. */
export async function mysqlPrivileges(query: CatalogQuery, database: string): Promise<PrivilegeReport> {
  const rows = await query<Record<string, string>>('SHOW GRANTS FOR CURRENT_USER()');
  const findings: string[] = [];
  for (const row of rows) {
    const grant = Object.values(row)[0] ?? '';
    const m = /^GRANT (.+?) ON (\S+) TO /i.exec(grant);
    if (!m) continue;
    const privileges = m[1]!.split(',').map((p) => p.trim().toUpperCase());
    const writes = privileges.filter((p) => WRITE_PRIVILEGES.includes(p));
    if (/WITH GRANT OPTION/i.test(grant)) writes.push('GRANT OPTION');
    if (writes.length) findings.push(`${writes.join(', ')} on ${m[2]}`);
  }
  return {
    canWrite: findings.length > 0,
    findings,
    recommendation: [
      `CREATE USER 'vansales_reader'@'<agent host>' IDENTIFIED BY '<choose one>';`,
      `GRANT SELECT, SHOW VIEW ON \`${database}\`.* TO 'vansales_reader'@'<agent host>';`,
    ].join('\n'),
  };
}

/** SQL Server privilege inspection is not implemented yet: say so, and assume the worst. */
export const MSSQL_PRIVILEGES: PrivilegeReport = {
  canWrite: true,
  findings: ['not checked: SQL Server privilege inspection is not implemented yet; assume the login can write'],
  recommendation:
    "CREATE LOGIN vansales_reader WITH PASSWORD = '<choose one>'; CREATE USER vansales_reader FOR LOGIN vansales_reader; ALTER ROLE db_datareader ADD MEMBER vansales_reader;",
};
