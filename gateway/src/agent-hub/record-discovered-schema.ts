import { ApplicationFailure } from '@temporalio/common';
import { AgentErrorType, SchemaSnapshot } from '@vansales/protocol';
import type { SchemaRegistry } from '@vansales/metadata';
import type { SchemaRecorded } from '@vansales/activities';
import type { ResultTransform } from './proxy-activities';

/**
 * A discovery result is stored in the schema registry at the gateway, and only a reference to it
 * (database, version, whether it changed, table count) goes back into Temporal history: a
 * snapshot can be megabytes, history payloads are capped at 2 MB. Other operations pass through.
 */
export function recordDiscoveredSchema(schemaRegistry: SchemaRegistry): ResultTransform {
  return async ({ tenantId, connectorId }, operation, input, output) => {
    if (operation !== 'schema.discover') return output;
    // Bounded (SNAPSHOT_LIMITS): a snapshot past them is refused whole, and retrying cannot help.
    const parsed = SchemaSnapshot.safeParse(output);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw ApplicationFailure.nonRetryable(
        `the agent's schema snapshot was refused at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}`,
        AgentErrorType.badInput,
      );
    }
    const snapshot = parsed.data;
    const database = (input as { database: string }).database;
    const recorded = await schemaRegistry.recordSnapshot(tenantId, connectorId, database, snapshot);
    return {
      database,
      ...recorded,
      tables: snapshot.schemas.reduce((n, s) => n + s.tables.length, 0),
    } satisfies SchemaRecorded;
  };
}
