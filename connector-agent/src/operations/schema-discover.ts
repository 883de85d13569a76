import { AgentErrorType, SchemaDiscoverInput } from '@vansales/protocol';
import type { SiteDatabase } from '../site-database/site-database';
import { OperationError, type OperationHandler } from './operation';
import { parseOrRefuse, toOperationError } from './data-support';

/** Reads the structure of a configured database from its catalog (read-only) and returns the snapshot. */
export function createSchemaDiscover(databases: (name: string) => SiteDatabase | undefined): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SchemaDiscoverInput, raw, 'schema.discover');
    const db = databases(input.database);
    if (!db)
      throw new OperationError(
        AgentErrorType.unknownDatabase,
        `no database named ${input.database} is configured on this agent`,
        false,
      );
    try {
      return await db.catalog({ schemas: input.schemas, signal: ctx.signal });
    } catch (err) {
      throw toOperationError(err);
    }
  };
}
