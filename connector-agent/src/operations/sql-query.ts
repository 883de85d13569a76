import { AgentErrorType, SqlQueryInput, type SqlQueryOutputT } from '@vansales/protocol';
import type { SiteDatabase } from '../site-database/site-database';
import { bindMysqlParameters, checkReadOnlySql } from '../sql-guard';
import { OperationError, type OperationHandler } from './operation';
import type { SitePolicy } from '../policy/site-policy';
import { parseOrRefuse, toOperationError } from './data-support';

/** Runs one read-only query on a configured database and returns at most maxRows rows. */
export function createSqlQuery(
  databases: (name: string) => SiteDatabase | undefined,
  policy?: () => SitePolicy,
): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SqlQueryInput, raw, 'sql.query');
    // A free-form result cannot be traced to its columns reliably (aliases, expressions, views),
    // so on a database whose columns the site protects, rows leave only through table extracts.
    const sitePolicy = policy?.();
    if (sitePolicy?.hasColumnRules(input.database)) {
      throw new OperationError(
        AgentErrorType.policyRefused,
        `${sitePolicy.source} drops or masks columns of ${input.database}, so free-form queries on it are refused; extract tables instead (the policy applies there)`,
        false,
      );
    }
    const db = databases(input.database);
    if (!db)
      throw new OperationError(
        AgentErrorType.unknownDatabase,
        `no database named ${input.database} is configured on this agent`,
        false,
      );
    let { sql, params } = input;
    if (db.dialect === 'mysql') {
      // MySQL parameters become part of the text on the client; bind them here, as literals that read
      // the same under every sql_mode, so the guard below checks exactly what the server will run.
      const bound = bindMysqlParameters(sql, params);
      if (!bound.ok) throw new OperationError(AgentErrorType.sqlRefused, bound.reason, false);
      sql = bound.sql;
      params = [];
    }
    const verdict = await checkReadOnlySql(sql, db.dialect);
    if (!verdict.allowed) throw new OperationError(AgentErrorType.sqlRefused, verdict.reason, false);
    try {
      return (await db.query(sql, params, { maxRows: input.maxRows, signal: ctx.signal })) satisfies SqlQueryOutputT;
    } catch (err) {
      throw toOperationError(err);
    }
  };
}
