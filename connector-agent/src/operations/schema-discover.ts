import { AgentErrorType, SchemaDiscoverInput, type SchemaSnapshot } from '@vansales/protocol';
import type { DataPolicy } from '@vansales/dataflow';
import type { SiteDatabase } from '../site-database/site-database';
import { OperationError, type OperationHandler } from './operation';
import { parseOrRefuse, toOperationError } from './data-support';

/**
 * Reads the structure of a configured database from its catalog (read-only) and returns the
 * snapshot, without the columns the site policy drops: their names and types stay on the site too.
 */
export function createSchemaDiscover(
  databases: (name: string) => SiteDatabase | undefined,
  policy?: () => DataPolicy,
): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SchemaDiscoverInput, raw, 'schema.discover');
    const db = databases(input.database);
    if (!db)
      throw new OperationError(
        AgentErrorType.unknownDatabase,
        `no database named ${input.database} is configured on this agent`,
        false,
      );
    const rules = policy?.();
    try {
      const snapshot = await db.catalog({ schemas: input.schemas, signal: ctx.signal });
      return rules ? withoutDroppedColumns(snapshot, input.database, rules) : snapshot;
    } catch (err) {
      throw toOperationError(err);
    }
  };
}

/**
 * The snapshot minus dropped columns, and minus the keys, indexes and foreign keys that name one
 * (a key listed without its column would mislead; one listing it would tell its name).
 */
export function withoutDroppedColumns(snapshot: SchemaSnapshot, database: string, policy: DataPolicy): SchemaSnapshot {
  const dropped = (schema: string, table: string, column: string) =>
    policy.columnRule(database, { schema, name: table }, column)?.action === 'drop';
  return {
    ...snapshot,
    schemas: snapshot.schemas.map((s) => ({
      ...s,
      tables: s.tables.map((t) => {
        const gone = (column: string) => dropped(s.name, t.name, column);
        return {
          ...t,
          columns: t.columns.filter((c) => !gone(c.name)).map((c, i) => ({ ...c, position: i + 1 })),
          primaryKey: t.primaryKey && t.primaryKey.some(gone) ? null : t.primaryKey,
          indexes: t.indexes.filter((i) => !i.columns.some(gone) && !(i.include ?? []).some(gone)),
          foreignKeys: t.foreignKeys.filter(
            (f) =>
              !f.columns.some(gone) &&
              !f.referencedColumns.some((c) => dropped(f.referencedSchema, f.referencedTable, c)),
          ),
        };
      }),
    })),
  };
}
