import { AgentErrorType, DataExtractInput, type DataExtractOutputT } from '@vansales/protocol';
import { extractQuery, extractTable, resumeState, type ExtractPosition, type ObjectSink } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import { checkReadOnlySql } from '../sql-guard';
import { OperationError, type OperationHandler } from './operation';
import { openConfigured, parseOrRefuse, policyOf, toOperationError, type DataDeps } from './data-support';

/** What an extract reports as it goes; a retry of the same object resumes from it. */
interface ExtractProgress extends ExtractPosition {
  objectId: string;
}

/**
 * The agent's side of dataflow's extract: rows come from a database of this site, chunks go to
 * the buffer through the gateway with the object-scoped grant, the site's policy applies.
 */
export function createDataExtract(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataExtractInput, raw, 'data.extract');
    const grant = input.buffer;
    if (!grant || grant.scope !== 'write' || grant.objectId !== input.objectId) {
      throw new OperationError(
        AgentErrorType.badInput,
        'data.extract needs a write grant for its object from the gateway',
        false,
      );
    }
    const policy = policyOf(deps);
    const conn = await openConfigured(deps, input.database);
    const sink: ObjectSink = {
      publishSchema: (schema) => buffer.publishSchema(grant, schema, ctx.signal),
      put: (index, bytes, rows) => buffer.putChunk(grant, index, bytes, rows, ctx.signal),
      commit: (manifest) => buffer.commit(grant, manifest, ctx.signal),
    };
    const onChunk = (position: ExtractPosition) =>
      ctx.progress({ objectId: input.objectId, ...position } satisfies ExtractProgress);
    try {
      const common = { database: input.database, chunkRows: input.chunkRows, policy, signal: ctx.signal };
      const result =
        'table' in input.source
          ? await extractTable(
              conn,
              {
                ...common,
                table: input.source.table,
                columns: input.source.columns,
                keyColumns: input.keyColumns,
                incremental: input.incremental,
                resume: resumeState<ExtractProgress>(
                  ctx.resumeFrom,
                  (r) => r.objectId === input.objectId && typeof r.chunksDone === 'number',
                ),
              },
              sink,
              onChunk,
            )
          : await extractQuery(
              conn,
              { ...common, sql: input.source.sql, keyColumns: input.keyColumns, checkSql: refuseUnlessReadOnly },
              sink,
              onChunk,
            );
      return { objectId: input.objectId, ...result } satisfies DataExtractOutputT;
    } catch (err) {
      throw toOperationError(err);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}

async function refuseUnlessReadOnly(sql: string, dialect: Parameters<typeof checkReadOnlySql>[1]): Promise<void> {
  const verdict = await checkReadOnlySql(sql, dialect);
  if (!verdict.allowed) throw new OperationError(AgentErrorType.sqlRefused, verdict.reason, false);
}
