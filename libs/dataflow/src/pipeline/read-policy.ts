import { tableLabel, tableLabelOf, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { DataConnection } from '../types/data-connection';
import { describeRule, type ColumnRule, type DataPolicy } from './data-policy';
import { resolveTable, type ResolvedTable } from './resolve-table';

/** A refusal that names the rule (database, table pattern, column, action, policy source) and what to do. */
export function ruleRefusal(
  policy: DataPolicy,
  rule: ColumnRule,
  table: TableRef,
  why: string,
  hint: string,
): DataflowError {
  return new DataflowError(
    DataflowErrorCode.POLICY_REFUSED,
    `${describeRule(policy, rule)} protects column ${rule.column} of ${tableLabel(table)}, ${why}; ${hint}`,
    { table: tableLabel(table), column: rule.column },
  );
}

/**
 * Resolves a table to read as the server will, and refuses a view that reads around a rule: a
 * view's own rules apply to it like a table's, but a view without any rule over a table that has
 * some would hand out the protected columns under another name.
 */
export async function resolveReadable(
  conn: DataConnection,
  policy: DataPolicy,
  database: string,
  table: TableRef,
  signal?: AbortSignal,
): Promise<ResolvedTable & { table: TableRef & { schema: string } }> {
  const resolved = await resolveTable(conn, table, signal);
  if (!resolved.exists)
    throw new DataflowError(DataflowErrorCode.NOT_FOUND, `table ${tableLabelOf(database, table)} does not exist`, {
      table: tableLabel(table),
    });
  if (resolved.kind === 'view' && policy.tableRules(database, resolved.table).length === 0) {
    if (!resolved.bases) {
      if (policy.hasColumnRules(database))
        throw new DataflowError(
          DataflowErrorCode.POLICY_REFUSED,
          `${policy.source} protects columns of ${database}, and the tables behind view ${tableLabel(resolved.table)} cannot be read from the catalog (the login lacks SHOW VIEW): grant it, read the tables themselves, or give the view its own rules`,
          { table: tableLabel(resolved.table) },
        );
      return resolved;
    }
    for (const base of resolved.bases) {
      const [rule] = policy.tableRules(database, base);
      if (rule)
        throw ruleRefusal(
          policy,
          rule,
          base,
          `and view ${tableLabel(resolved.table)} reads ${tableLabel(base)}`,
          'read the table itself (the rule then applies) or give the view its own rules in the site policy',
        );
    }
  }
  // A partition holds its parent's rows: every rule of the parent must hold on it too.
  for (const parent of resolved.parents) {
    for (const rule of policy.tableRules(database, parent)) {
      if (policy.columnRule(database, resolved.table, rule.column)?.action !== rule.action)
        throw ruleRefusal(
          policy,
          rule,
          parent,
          `and ${tableLabel(resolved.table)} is a partition (or child) of ${tableLabel(parent)} holding its rows`,
          `read ${tableLabel(parent)} itself (the rule then applies) or give the partition the same rule`,
        );
    }
  }
  return resolved;
}

/**
 * Keys and cursor values leave the site as positions (heartbeats, results, the manifest's cursor),
 * read before any mask applies: no rule may cover them, whatever the rule.
 */
export function assertPositionsUnprotected(
  policy: DataPolicy,
  database: string,
  table: TableRef,
  keyColumns: string[],
  cursorColumn: string | undefined,
): void {
  for (const [name, role] of [
    ...keyColumns.map((k) => [k, 'key'] as const),
    ...(cursorColumn ? [[cursorColumn, 'cursor'] as const] : []),
  ]) {
    const rule = policy.columnRule(database, table, name);
    if (rule)
      throw ruleRefusal(
        policy,
        rule,
        table,
        `and this read needs it as its ${role} (its values would leave the site as resume positions)`,
        role === 'key' ? 'choose other keyColumns' : 'choose another cursorColumn',
      );
  }
}
