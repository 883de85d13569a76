import type { TableRef } from '@vansales/protocol';

export type ColumnAction = 'drop' | 'mask' | 'hash';

/**
 * The rules the pipeline applies on every path, injected by the caller: the agent passes its
 * site's policy file, the cloud `ALLOW_ALL` (it reaches only what its tenant is entitled to).
 * Applied inside extractTable / extractQuery / prepareDestination, so no adapter can forget one.
 */
export interface DataPolicy {
  /** Where the rules come from, for messages ("the site policy /etc/... does not list ..."). */
  readonly source: string;
  canWrite(database: string, table: TableRef): boolean;
  columnAction(database: string, table: TableRef, column: string): ColumnAction | undefined;
  /** Whether any column of this database is dropped, masked or hashed (SQL text cannot be checked against that). */
  hasColumnRules(database: string): boolean;
  /** Applies mask/hash to one value (drop happens before reading). */
  protect(action: Exclude<ColumnAction, 'drop'>, value: unknown): unknown;
}

export const ALLOW_ALL: DataPolicy = {
  source: 'the cloud (no site policy)',
  canWrite: () => true,
  columnAction: () => undefined,
  hasColumnRules: () => false,
  protect: (_action, value) => value,
};
