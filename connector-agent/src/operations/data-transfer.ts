import { AgentErrorType, DataTransferInput, tableLabelOf, type DataTransferOutputT } from '@vansales/protocol';
import { mapColumns, planTableRead, ReadPlanError, type ColumnSpec } from '@vansales/dataflow';
import { OperationError, type OperationHandler } from './operation';
import { assertWritable, describeOrFail, openConfigured, parseOrRefuse, policyOf, resumeState, toOperationError, type DataDeps } from './data-support';

interface TransferProgress {
  /** Identifies the run: a retry of another transfer must not resume from this one's position. */
  runKey: string;
  rowsDone: number;
  after?: unknown[];
  cursorMax?: unknown;
  created: boolean;
  owned: boolean;
}

/**
 * Copies a table from one database of this site to another, streamed, nothing leaving the site:
 * the next batch is read while the last one is written through the destination's bulk path.
 * `append` writes with COPY / multi-row INSERT and, on a retry, first deletes whatever a lost
 * batch wrote past the last reported key; `upsert` merges by key and can simply repeat.
 */
export function createDataTransfer(deps: DataDeps): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataTransferInput, raw, 'data.transfer');
    assertWritable(policyOf(deps), input.destination.database, input.destination.table);
    if (input.mode === 'append' && input.incremental) {
      throw new OperationError(AgentErrorType.badInput, 'append mode is for a full copy into a table it fills; incremental transfers upsert', false);
    }
    const runKey = JSON.stringify([input.source, input.destination, input.incremental?.after ?? null]);
    const resume = resumeState<TransferProgress>(ctx.resumeFrom, (r) => r.runKey === runKey && typeof r.rowsDone === 'number');
    const src = await openConfigured(deps, input.source.database);
    let dst;
    try {
      dst = await openConfigured(deps, input.destination.database);
    } catch (err) {
      await src.close().catch(() => undefined);
      throw err;
    }
    const target = tableLabelOf(input.destination.database, input.destination.table);
    try {
      const described = await describeOrFail(src, input.source.database, input.source.table);
      let plan;
      try {
        plan = planTableRead({ table: input.source.table, described, columns: input.source.columns, keyColumns: input.keyColumns, incremental: input.incremental, after: resume?.after });
      } catch (err) {
        if (err instanceof ReadPlanError) throw new OperationError(AgentErrorType.badInput, err.message, false);
        throw err;
      }
      const { columns, keyColumns, source, orderIndexes, cursorIndex } = plan;

      // `owned`: the destination held none but this run's rows when it started, so on a retry
      // whatever lies past the last reported key (or everything, if none was reported) is ours to remove.
      let created = resume?.created ?? false;
      let owned = resume?.owned ?? false;
      let targetColumns: ColumnSpec[];
      try {
        if (!(await dst.tableExists(input.destination.table))) {
          if (!input.createIfMissing) throw new OperationError(AgentErrorType.sqlError, `table ${target} does not exist and createIfMissing is false`, false);
          targetColumns = mapColumns(columns, dst.dialect, target);
          await dst.createTable(input.destination.table, targetColumns, keyColumns);
          created = true;
          owned = true;
        } else {
          const existing = await describeOrFail(dst, input.destination.database, input.destination.table);
          targetColumns = columns.map((c) => {
            const there = existing.columns.find((e) => e.name === c.name);
            if (!there) throw new OperationError(AgentErrorType.writeFailed, `table ${target} has no column ${c.name}`, false);
            return there;
          });
          if (input.mode === 'append') {
            if (owned) {
              await dst.deleteAfter(input.destination.table, keyColumns, resume?.after ?? []);
            } else {
              const n = await dst.countRows(input.destination.table);
              if (n > 0) throw new OperationError(AgentErrorType.writeFailed, `append mode fills an empty table; ${target} has ${n} rows (use mode upsert to merge)`, false);
              owned = true;
            }
          }
        }
      } catch (err) {
        throw toOperationError(err);
      }
      // Reported before the first row is written (Temporal sends a first heartbeat at once).
      if (!resume) ctx.progress({ runKey, rowsDone: 0, created, owned } satisfies TransferProgress);

      let rowsDone = resume?.rowsDone ?? 0;
      let cursorMax: unknown = resume?.cursorMax;
      try {
        const batches = src.readRows(source, { batchSize: input.batchRows, signal: ctx.signal })[Symbol.asyncIterator]();
        // Read ahead one batch while the previous one is written: the two databases work at once.
        let next = batches.next();
        for (;;) {
          const { value: rows, done } = await next;
          if (done) break;
          next = batches.next();
          next.catch(() => undefined);
          if (rows.length === 0) continue;
          await dst.writeRows(input.destination.table, targetColumns, rows, { mode: input.mode === 'append' ? 'insert' : 'upsert', keyColumns, signal: ctx.signal });
          const last = rows[rows.length - 1]!;
          if (cursorIndex >= 0 && last[cursorIndex] !== null) cursorMax = last[cursorIndex];
          rowsDone += rows.length;
          ctx.progress({ runKey, rowsDone, after: orderIndexes.map((i) => last[i]), cursorMax, created, owned } satisfies TransferProgress);
        }
      } catch (err) {
        throw toOperationError(err, AgentErrorType.writeFailed);
      }
      const cursor = input.incremental ? { column: input.incremental.column, max: cursorMax ?? input.incremental.after ?? null } : undefined;
      return { rowCount: rowsDone, created, keyColumns, ...(cursor ? { cursor } : {}) } satisfies DataTransferOutputT;
    } finally {
      await Promise.all([src.close().catch(() => undefined), dst.close().catch(() => undefined)]);
    }
  };
}
