import { AgentErrorType, SchemaDiscoverInput, type SchemaSnapshot } from '@vansales/protocol';
import type { DatabaseConfig } from '../config';
import { DatabaseUnavailableError } from '../databases/sql-runner';
import { discoverSchema, DiscoveryCancelledError } from '../schema';
import { OperationError, type OperationHandler } from './operation';

/** Reads the structure of a configured database from its catalog (read-only) and returns the snapshot. */
export function createSchemaDiscover(databases: (name: string) => DatabaseConfig | undefined): OperationHandler {
  return async (raw, ctx) => {
    const parsed = SchemaDiscoverInput.safeParse(raw);
    if (!parsed.success) {
      throw new OperationError(AgentErrorType.badInput, `invalid schema.discover input: ${parsed.error.issues[0]?.message ?? 'unknown'}`, false);
    }
    const input = parsed.data;
    const db = databases(input.database);
    if (!db) throw new OperationError(AgentErrorType.unknownDatabase, `no database named ${input.database} is configured on this agent`, false);
    let snapshot: SchemaSnapshot;
    try {
      snapshot = await discoverSchema(db, { schemas: input.schemas, signal: ctx.signal });
    } catch (err) {
      if (err instanceof DiscoveryCancelledError) throw new OperationError(AgentErrorType.cancelled, err.message, false);
      if (err instanceof DatabaseUnavailableError) throw new OperationError(AgentErrorType.databaseUnavailable, err.message, true);
      const e = err as { message?: string; code?: string };
      throw new OperationError(AgentErrorType.sqlError, `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`, false);
    }
    return snapshot;
  };
}
