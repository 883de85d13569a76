import { AgentErrorType, SqlQueryInput } from '@vansales/protocol';
import { DatabaseUnavailableError, QueryCancelledError, type SqlRunner } from '../databases/sql-runner';
import { OperationError, type OperationHandler } from './operation';

/** Runs one read-only query on a configured database and returns at most maxRows rows. */
export function createSqlQuery(runners: (name: string) => Promise<SqlRunner | undefined>): OperationHandler {
  return async (raw, ctx) => {
    const parsed = SqlQueryInput.safeParse(raw);
    if (!parsed.success) {
      throw new OperationError(AgentErrorType.badInput, `invalid sql.query input: ${parsed.error.issues[0]?.message ?? 'unknown'}`, false);
    }
    const input = parsed.data;
    const runner = await runners(input.database);
    if (!runner) throw new OperationError(AgentErrorType.unknownDatabase, `no database named ${input.database} is configured on this agent`, false);
    try {
      return await runner.query(input.sql, input.params, { maxRows: input.maxRows, signal: ctx.signal });
    } catch (err) {
      if (err instanceof QueryCancelledError) throw new OperationError(AgentErrorType.cancelled, err.message, false);
      if (err instanceof DatabaseUnavailableError) throw new OperationError(AgentErrorType.databaseUnavailable, err.message, true);
      const e = err as { message?: string; code?: string };
      throw new OperationError(AgentErrorType.sqlError, `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`, false);
    }
  };
}
