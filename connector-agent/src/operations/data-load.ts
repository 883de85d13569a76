import { AgentErrorType, DataLoadInput, tableLabelOf, type DataLoadOutputT } from '@vansales/protocol';
import { CanonicalType, chunkedLoad, mapColumns, type ColumnSpec } from '@vansales/dataflow';
import { z } from 'zod';
import type { BufferClient } from '../buffer/buffer-client';
import { OperationError, type OperationHandler } from './operation';
import { assertWritable, describeOrFail, openConfigured, parseOrRefuse, policyOf, resumeState, toOperationError, type DataDeps } from './data-support';

interface LoadProgress {
  objectId: string;
  chunksDone: number;
  rowsDone: number;
  created: boolean;
}

/** The schema part of a manifest, checked before a single row is written. */
const ManifestSchema = z.object({
  columns: z
    .array(z.object({ name: z.string().min(1).max(128), type: CanonicalType, nullable: z.boolean(), nativeType: z.string() }))
    .min(1)
    .max(4096),
  keyColumns: z.array(z.string()),
});

/**
 * Writes a buffer object into a table of this site, upserting by key columns, one transaction per
 * chunk. Allowed only for tables the site's policy lists; creates the table through the type
 * mapping when it is missing. A retry resumes at the first chunk not yet reported done, and
 * upserting makes a repeated chunk harmless.
 */
export function createDataLoad(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataLoadInput, raw, 'data.load');
    const grant = input.buffer;
    if (!grant || grant.scope !== 'read' || grant.objectId !== input.objectId) {
      throw new OperationError(AgentErrorType.badInput, 'data.load needs a read grant for its object from the gateway', false);
    }
    // The policy is checked before anything is fetched or opened: a refused load touches nothing.
    assertWritable(policyOf(deps), input.database, input.table);
    const manifest = await buffer.manifest(grant, ctx.signal);
    const parsed = ManifestSchema.safeParse(manifest.schema);
    if (!parsed.success) throw new OperationError(AgentErrorType.bufferRefused, `buffer object ${input.objectId} has no usable schema: ${parsed.error.issues[0]?.message ?? ''}`, false);
    const schema = parsed.data as { columns: ColumnSpec[]; keyColumns: string[] };
    const target = tableLabelOf(input.database, input.table);
    for (const k of input.keyColumns) {
      if (!schema.columns.some((c) => c.name === k)) throw new OperationError(AgentErrorType.badInput, `key column ${k} is not in buffer object ${input.objectId} (columns: ${schema.columns.map((c) => c.name).join(', ')})`, false);
    }

    const resume = resumeState<LoadProgress>(ctx.resumeFrom, (r) => r.objectId === input.objectId && typeof r.chunksDone === 'number');
    const conn = await openConfigured(deps, input.database);
    try {
      let created = resume?.created ?? false;
      let columns: ColumnSpec[];
      if (!(await conn.tableExists(input.table).catch((err: unknown) => Promise.reject(toOperationError(err))))) {
        if (!input.createIfMissing) throw new OperationError(AgentErrorType.sqlError, `table ${target} does not exist and createIfMissing is false`, false);
        try {
          columns = mapColumns(schema.columns, conn.dialect, target);
          await conn.createTable(input.table, columns, input.keyColumns);
        } catch (err) {
          throw toOperationError(err);
        }
        created = true;
      } else {
        const existing = await describeOrFail(conn, input.database, input.table);
        columns = schema.columns.map((c) => {
          const there = existing.columns.find((e) => e.name === c.name);
          if (!there) throw new OperationError(AgentErrorType.writeFailed, `table ${target} has no column ${c.name} (the buffer object has it)`, false);
          return there;
        });
      }

      const chunkCount = manifest.chunks.length;
      try {
        await chunkedLoad(
          conn,
          {
            table: input.table,
            columns,
            keyColumns: input.keyColumns,
            startChunk: resume?.chunksDone ?? 0,
            startRows: resume?.rowsDone ?? 0,
            signal: ctx.signal,
            onBadChunk: (index, err) => new OperationError(AgentErrorType.bufferRefused, `chunk ${index} of buffer object ${input.objectId} is unreadable: ${err.message}`, false),
          },
          { count: chunkCount, get: (index) => buffer.getChunk(grant, index, ctx.signal) },
          (done) => ctx.progress({ objectId: input.objectId, ...done, created } satisfies LoadProgress),
        );
      } catch (err) {
        throw toOperationError(err, AgentErrorType.writeFailed);
      }
      return { rowCount: manifest.rowCount, chunkCount, created } satisfies DataLoadOutputT;
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}
