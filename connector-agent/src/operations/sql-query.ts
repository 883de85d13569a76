import { AgentErrorType, SqlQueryInput } from '@vansales/protocol';
import { DatabaseUnavailableError, QueryCancelledError, type SqlRunner } from '../databases/sql-runner';
import { bindMysqlParameters, checkReadOnlySql } from '../sql-guard';
import { OperationError, type OperationHandler } from './operation';
import type { SitePolicy } from '../policy/site-policy';

/** Runs one read-only query on a configured database and returns at most maxRows rows. */
export function createSqlQuery(runners: (name: string) => Promise<SqlRunner | undefined>, policy?: () => SitePolicy): OperationHandler {
  return async (raw, ctx) => {
    const parsed = SqlQueryInput.safeParse(raw);
    if (!parsed.success) {
      throw new OperationError(AgentErrorType.badInput, `invalid sql.query input: ${parsed.error.issues[0]?.message ?? 'unknown'}`, false);
    }
    const input = parsed.data;
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
    const runner = await runners(input.database);
    if (!runner) throw new OperationError(AgentErrorType.unknownDatabase, `no database named ${input.database} is configured on this agent`, false);
    let { sql, params } = input;
    if (runner.dialect === 'mysql') {
      // MySQL parameters become part of the text on the client; bind them here, as literals that read
      // the same under every sql_mode, so the guard below checks exactly what the server will run.
      const bound = bindMysqlParameters(sql, params);
      if (!bound.ok) throw new OperationError(AgentErrorType.sqlRefused, bound.reason, false);
      sql = bound.sql;
      params = [];
    }
    const verdict = await checkReadOnlySql(sql, runner.dialect);
    if (!verdict.allowed) throw new OperationError(AgentErrorType.sqlRefused, verdict.reason, false);
    try {
      return await runner.query(sql, params, { maxRows: input.maxRows, signal: ctx.signal });
    } catch (err) {
      if (err instanceof QueryCancelledError) throw new OperationError(AgentErrorType.cancelled, err.message, false);
      if (err instanceof DatabaseUnavailableError) throw new OperationError(AgentErrorType.databaseUnavailable, err.message, true);
      const e = err as { message?: string; code?: string };
      throw new OperationError(AgentErrorType.sqlError, `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`, false);
    }
  };
}
