import { DIALECTS, type Dialect } from '@vansales/protocol';
import { checkMssql } from './mssql-guard';
import { checkMysql } from './mysql-guard';
import { checkPostgres } from './postgres-guard';
import { SqlRefusal } from './sql-refusal';

export type SqlCheckResult = { allowed: true } | { allowed: false; reason: string };

/**
 * Layer 2 of the agent's read-only defence: allows `sql` only if a parser of its own dialect reads
 * it as exactly one read statement with no write or side effect anywhere inside (no data-modifying
 * CTE, SELECT INTO, locking clause, INTO OUTFILE, executable comment, side-effecting function or
 * stacked statement). Anything it cannot read with certainty is refused, with the reason.
 * MySQL/MariaDB covers both servers (and every sql_mode that changes how strings end).
 */
export async function checkReadOnlySql(sql: string, dialect: Dialect): Promise<SqlCheckResult> {
  try {
    if (dialect === 'postgres') await checkPostgres(sql);
    else if (dialect === 'mysql') checkMysql(sql);
    else if (dialect === 'mssql') checkMssql(sql);
    else
      return {
        allowed: false,
        reason: `Unknown SQL dialect ${JSON.stringify(dialect)}; use one of ${DIALECTS.join(', ')}.`,
      };
    return { allowed: true };
  } catch (err) {
    if (err instanceof SqlRefusal) return { allowed: false, reason: err.message };
    // A parser crash (for example a stack overflow on a very deep expression) must not let a text through.
    return {
      allowed: false,
      reason: `The SQL guard could not finish checking this text (${err instanceof Error ? err.message : String(err)}), so it is refused; simplify the query.`,
    };
  }
}
