import { AgentErrorType, DataExtractInput, type DataExtractOutputT, type TableRef } from '@vansales/protocol';
import { chunkedExtract, planTableRead, ReadPlanError, type ColumnSpec, type ExtractPosition, type ReadSource } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import { checkReadOnlySql } from '../sql-guard';
import type { SitePolicy } from '../policy/site-policy';
import { OperationError, type OperationHandler } from './operation';
import { describeOrFail, openConfigured, parseOrRefuse, policyOf, resumeState, toOperationError, type DataDeps } from './data-support';

/** What an extract reports as it goes; a retry of the same object resumes from it. */
interface ExtractProgress extends ExtractPosition {
  objectId: string;
}

/** The schema an extract stores in the object's manifest; loads read it back. */
export interface ExtractedSchema {
  columns: ColumnSpec[];
  keyColumns: string[];
  dialect: string;
  source: string;
}

/**
 * Reads a table (keyset order, optionally only rows past a cursor) or a read-only query into the
 * buffer, in numbered chunks, through the gateway. Columns the site policy drops are never read;
 * masked and hashed ones are rewritten before a chunk leaves. A retry of the same object resumes
 * after the last stored chunk (a query, having no keyset, starts again and rewrites its chunks).
 */
export function createDataExtract(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataExtractInput, raw, 'data.extract');
    const grant = input.buffer;
    if (!grant || grant.scope !== 'write' || grant.objectId !== input.objectId) {
      throw new OperationError(AgentErrorType.badInput, 'data.extract needs a write grant for its object from the gateway', false);
    }
    const policy = policyOf(deps);
    const conn = await openConfigured(deps, input.database);
    try {
      const resume = resumeState<ExtractProgress>(ctx.resumeFrom, (r) => r.objectId === input.objectId && typeof r.chunksDone === 'number');
      let columns: ColumnSpec[];
      let keyColumns: string[];
      let source: ReadSource;
      let orderIndexes: number[] = [];
      let cursorIndex = -1;
      let protect: ((row: unknown[]) => void) | undefined;
      let sourceName: string;
      let start: ExtractPosition = { chunksDone: 0, rowsDone: 0 };

      if ('table' in input.source) {
        const table = input.source.table;
        sourceName = table.schema ? `${table.schema}.${table.name}` : table.name;
        const described = await describeOrFail(conn, input.database, table);
        const needed = [...(input.keyColumns ?? described.primaryKey), ...(input.incremental ? [input.incremental.column] : [])];
        const wanted = (input.source.columns ?? described.columns.map((c) => c.name)).filter((name) => {
          const action = policy.columnAction(input.database, table, name);
          if (action && needed.includes(name)) {
            throw new OperationError(AgentErrorType.policyRefused, `${policy.source} ${action === 'drop' ? 'drops' : `${action}es`} column ${name} of ${sourceName}, which this extract needs as its key or cursor; choose other keyColumns`, false);
          }
          return action !== 'drop';
        });
        let plan;
        try {
          plan = planTableRead({ table, described, columns: wanted, keyColumns: input.keyColumns, incremental: input.incremental, after: resume?.after });
        } catch (err) {
          if (err instanceof ReadPlanError) throw new OperationError(AgentErrorType.badInput, err.message, false);
          throw err;
        }
        ({ keyColumns, source, orderIndexes, cursorIndex } = plan);
        ({ columns, protect } = protectColumns(policy, input.database, table, plan.columns));
        if (resume) start = { chunksDone: resume.chunksDone ?? 0, rowsDone: resume.rowsDone ?? 0, after: resume.after, cursorMax: resume.cursorMax };
      } else {
        sourceName = 'query';
        if (policy.hasColumnRules(input.database)) {
          throw new OperationError(AgentErrorType.policyRefused, `${policy.source} drops or masks columns in ${input.database}; extract by table (not by SQL) so the policy can apply`, false);
        }
        const verdict = await checkReadOnlySql(input.source.sql, conn.dialect);
        if (!verdict.allowed) throw new OperationError(AgentErrorType.sqlRefused, verdict.reason, false);
        columns = await conn.describeQuery(input.source.sql).catch((err: unknown) => Promise.reject(toOperationError(err)));
        keyColumns = input.keyColumns ?? [];
        source = { kind: 'query', sql: input.source.sql };
      }

      let end: ExtractPosition;
      try {
        end = await chunkedExtract(
          conn,
          { source, orderIndexes, cursorIndex, chunkRows: input.chunkRows, start, protect, signal: ctx.signal },
          { put: (index, bytes, rows) => buffer.putChunk(grant, index, bytes, rows, ctx.signal) },
          (position) => ctx.progress({ objectId: input.objectId, ...position } satisfies ExtractProgress),
        );
      } catch (err) {
        throw toOperationError(err);
      }
      const schema: ExtractedSchema = { columns, keyColumns, dialect: conn.dialect, source: sourceName };
      const cursor = input.incremental ? { column: input.incremental.column, max: end.cursorMax ?? input.incremental.after ?? null } : undefined;
      await buffer.commit(grant, { schema, chunkCount: end.chunksDone, rowCount: end.rowsDone, meta: cursor ? { cursor } : {} }, ctx.signal);
      return { objectId: input.objectId, rowCount: end.rowsDone, chunkCount: end.chunksDone, keyColumns, ...(cursor ? { cursor } : {}) } satisfies DataExtractOutputT;
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}

/** Masked and hashed columns become text in the object's schema; their values are rewritten per row. */
function protectColumns(policy: SitePolicy, database: string, table: TableRef, planned: ColumnSpec[]): { columns: ColumnSpec[]; protect?: (row: unknown[]) => void } {
  const rules: [number, 'mask' | 'hash'][] = [];
  const columns = planned.map((column, i) => {
    const action = policy.columnAction(database, table, column.name);
    if (action !== 'mask' && action !== 'hash') return column;
    rules.push([i, action]);
    return { name: column.name, type: { kind: 'text' }, nullable: column.nullable, nativeType: `${action}ed ${column.nativeType}` } as ColumnSpec;
  });
  if (rules.length === 0) return { columns };
  return {
    columns,
    protect: (row) => {
      for (const [i, action] of rules) row[i] = policy.protect(action, row[i]);
    },
  };
}
