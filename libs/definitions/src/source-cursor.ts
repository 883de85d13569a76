import { canonicalJson } from './canonical-json';
import type { Step } from './model';

type SourceStep = Extract<Step, { kind: 'source' }>;

/**
 * What an incremental source reads, as one canonical string: its endpoint, its table or query and
 * its cursor column. A cursor is kept under this key, so a version that points the same step at
 * another table (or another cursor column) starts from the beginning. Pure: workflow code calls it.
 */
export function incrementalSourceKey(step: Pick<SourceStep, 'db'>): string | undefined {
  const db = step.db;
  if (!db?.incremental) return undefined;
  return canonicalJson({
    endpoint: db.endpoint,
    table: db.table ?? null,
    sql: db.sql ?? null,
    column: db.incremental.column,
  });
}
