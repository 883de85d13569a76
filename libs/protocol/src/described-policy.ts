import type { TableRef } from './database-names';
import type { PolicyDescribeOutputT } from './http-operations';

/**
 * Reading a site policy as `policy.describe` answers it (names only), with the agent's pattern
 * rules: `table`, `schema.table`, `schema.*`, `*`; a pattern without schema matches any schema.
 * Pure and import-free, so workflow code (the interpreter's router) can use it too. Early answers
 * only: the agent applies its own rules again on the tables the server resolves.
 */
export function describedTableMatches(pattern: string, table: TableRef): boolean {
  if (pattern === '*') return true;
  const dot = pattern.indexOf('.');
  const schema = dot < 0 ? undefined : pattern.slice(0, dot);
  const name = dot < 0 ? pattern : pattern.slice(dot + 1);
  if (schema !== undefined && table.schema !== undefined && schema !== table.schema) return false;
  return name === '*' || name === table.name;
}

/**
 * The columns of a read the site's policy protects (masks or hashes before rows leave): of
 * `columns` when the read names them, else of the whole table (every column is read). A read by
 * SQL text (`table` undefined) is protected by any rule on its database: the text cannot be checked.
 * Dropped columns are never read, so they protect nothing in the rows.
 */
export function describedProtectedColumns(
  described: Pick<PolicyDescribeOutputT, 'protectedColumns'>,
  database: string,
  table: TableRef | undefined,
  columns?: readonly string[],
): string[] {
  const rules = (described.protectedColumns ?? []).filter(
    (r) => r.database === database && r.action !== 'drop' && (!table || describedTableMatches(r.table, table)),
  );
  const read = columns ? new Set(columns) : undefined;
  return [...new Set(rules.map((r) => r.column).filter((c) => !read || read.has(c)))].sort();
}
