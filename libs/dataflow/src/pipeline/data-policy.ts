import type { TableRef } from '@vansales/protocol';

export type ColumnAction = 'drop' | 'mask' | 'hash';

/** One column rule as the policy states it, so a refusal can name it. */
export interface ColumnRule {
  database: string;
  table: string;
  column: string;
  action: ColumnAction;
}

/**
 * How the server resolves a name that omits its schema, and whether it compares names without
 * case (MySQL `lower_case_table_names`): a rule or grant is matched the way the server reads it.
 */
export interface NameRules {
  /** PostgreSQL `current_schema()`, MySQL the connection's database. */
  defaultSchema: string;
  caseInsensitive: boolean;
}

/**
 * The rules the pipeline applies on every path, injected by the caller: the agent passes its
 * site's policy file, the cloud `ALLOW_ALL` (it reaches only what its tenant is entitled to).
 * Applied inside extractTable / extractQuery / transfer / prepareDestination on tables resolved
 * as the server resolves them (schema, case, views), so no adapter can forget one.
 */
export interface DataPolicy {
  /** Where the rules come from, for messages ("the site policy /etc/... does not list ..."). */
  readonly source: string;
  /** `table` resolved (schema set) when `names` is given; without it, a pre-check that ignores a missing schema. */
  canWrite(database: string, table: TableRef, names?: NameRules): boolean;
  /** The rule protecting this column of this (resolved) table, from this database or any alias of the same server database. */
  columnRule(database: string, table: TableRef, column: string): ColumnRule | undefined;
  /** Every rule on this (resolved) table: a view over it must not read around them. */
  tableRules(database: string, table: TableRef): ColumnRule[];
  /** Whether any column of this database (or an alias of it) is protected (SQL text cannot be checked against that). */
  hasColumnRules(database: string): boolean;
  /** Applies mask/hash to one value (drop happens before reading). */
  protect(action: Exclude<ColumnAction, 'drop'>, value: unknown): unknown;
}

export const ALLOW_ALL: DataPolicy = {
  source: 'the cloud (no site policy)',
  canWrite: () => true,
  columnRule: () => undefined,
  tableRules: () => [],
  hasColumnRules: () => false,
  protect: (_action, value) => value,
};

/** The rule as a policy file spells it, for messages a site operator can grep for. */
export function describeRule(policy: DataPolicy, rule: ColumnRule): string {
  return `rule {"database": "${rule.database}", "table": "${rule.table}", "column": "${rule.column}", "action": "${rule.action}"} of ${policy.source}`;
}
