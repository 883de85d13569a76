import { tableLabel, tableLabelOf, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { DataConnection } from '../types/data-connection';
import type { DataPolicy } from './data-policy';
import { assertWritable, prepareDestination } from './destination';
import { planTableRead } from './table-read-plan';
import { assertPositionsUnprotected, resolveReadable, ruleRefusal } from './read-policy';
import { resolveTable } from './resolve-table';

/** What a transfer reports as it goes; a retry of the same run resumes from it. */
export interface TransferPosition {
  rowsDone: number;
  /** Order-by values of the last row written. */
  after?: unknown[];
  cursorMax?: unknown;
  created: boolean;
  /**
   * The destination held none but this run's rows when it started, so on a retry whatever lies
   * past the last reported key (or everything, if none was reported) is ours to remove.
   */
  owned: boolean;
}

export interface TransferRequest {
  source: { database: string; table: TableRef; columns?: string[] };
  destination: { database: string; table: TableRef };
  keyColumns?: string[];
  incremental?: { column: string; after?: unknown };
  /** `upsert` merges by key; `append` is the bulk path into a table this transfer fills. */
  mode: 'append' | 'upsert';
  batchRows: number;
  createIfMissing: boolean;
  policy: DataPolicy;
  resume?: Partial<TransferPosition>;
  signal?: AbortSignal;
}

/**
 * Copies a table from one database to another, streamed: the next batch is read (by the reader,
 * one batch ahead) while the last one is written through the destination's bulk path. `append` writes with COPY / multi-row
 * INSERT and, on a retry, first deletes whatever a lost batch wrote past the last reported key;
 * `upsert` merges by key and can simply repeat. The rows stay on the site, but the destination
 * may be read by anyone the site lets read it: dropped columns are not read, a masked or hashed
 * one is copied only into a table whose rules protect it the same way, keys and cursor (reported
 * as positions) must be unprotected, and the destination must be writable.
 */
export async function transfer(
  open: (database: string) => Promise<DataConnection>,
  request: TransferRequest,
  onProgress: (position: TransferPosition) => void,
): Promise<{ rowCount: number; created: boolean; keyColumns: string[]; cursor?: { column: string; max: unknown } }> {
  const { source: from, destination: to, resume } = request;
  assertWritable(request.policy, to.database, to.table);
  if (request.mode === 'append' && request.incremental) {
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      'append mode is for a full copy into a table it fills; incremental transfers upsert',
    );
  }
  const src = await open(from.database);
  let dst: DataConnection;
  try {
    dst = await open(to.database);
  } catch (err) {
    await src.close().catch(() => undefined);
    throw err;
  }
  const target = tableLabelOf(to.database, to.table);
  try {
    // Both names resolved as the servers will (schema, case, a view's tables) before any rule is matched.
    const source = await resolveReadable(src, request.policy, from.database, from.table, request.signal);
    const described = await src.describeTable(source.table);
    if (!described)
      throw new DataflowError(
        DataflowErrorCode.NOT_FOUND,
        `table ${tableLabelOf(from.database, from.table)} does not exist`,
      );
    const wanted = (from.columns ?? described.columns.map((c) => c.name)).filter(
      (name) => request.policy.columnRule(from.database, source.table, name)?.action !== 'drop',
    );
    const plan = planTableRead({
      table: source.table,
      described,
      columns: wanted,
      keyColumns: request.keyColumns,
      incremental: request.incremental,
      after: resume?.after,
    });
    // Positions leave the site in heartbeats and the result, as for an extract.
    assertPositionsUnprotected(
      request.policy,
      from.database,
      source.table,
      plan.keyColumns,
      request.incremental?.column,
    );
    // A masked or hashed column lands raw only where the destination's rules protect it the same way.
    const landing = await resolveTable(dst, to.table, request.signal);
    for (const column of plan.columns) {
      const rule = request.policy.columnRule(from.database, source.table, column.name);
      if (!rule) continue;
      const there = request.policy.columnRule(to.database, landing.table, column.name);
      if (there?.action !== rule.action)
        throw ruleRefusal(
          request.policy,
          rule,
          source.table,
          `and ${tableLabelOf(to.database, landing.table)} has no rule that ${rule.action}es it too (a transfer would land the raw values there)`,
          `leave ${column.name} out of the transfer's columns, or add the same rule for ${to.database} "${tableLabel(landing.table)}" to the site policy`,
        );
    }
    const { keyColumns, orderIndexes, cursorIndex } = plan;

    const destination = await prepareDestination(dst, {
      database: to.database,
      table: to.table,
      columns: plan.columns,
      keyColumns,
      createIfMissing: request.createIfMissing,
      policy: request.policy,
    });
    const created = destination.created || (resume?.created ?? false);
    let owned = destination.created || (resume?.owned ?? false);
    if (!destination.created && request.mode === 'append') {
      if (owned) {
        await dst.deleteAfter(to.table, keyColumns, resume?.after ?? []);
      } else {
        const n = await dst.countRows(to.table);
        if (n > 0)
          throw new DataflowError(
            DataflowErrorCode.WRITE_FAILED,
            `append mode fills an empty table; ${target} has ${n} rows (use mode upsert to merge)`,
          );
        owned = true;
      }
    }
    // Reported before the first row is written (Temporal sends a first heartbeat at once).
    if (!resume) onProgress({ rowsDone: 0, created, owned });

    let rowsDone = resume?.rowsDone ?? 0;
    let cursorMax: unknown = resume?.cursorMax;
    // The reader reads the next batch while this one is written (both readers keep one batch
    // ahead by themselves: readRows), so the two databases work at once. Asking for it here too
    // held two more batches of 20,000 rows in the agent for no gain (bench/README.md, memory).
    for await (const rows of src.readRows(plan.source, { batchSize: request.batchRows, signal: request.signal })) {
      if (rows.length === 0) continue;
      await dst.writeRows(to.table, destination.columns, rows, {
        mode: request.mode === 'append' ? 'insert' : 'upsert',
        keyColumns,
        signal: request.signal,
      });
      const last = rows[rows.length - 1]!;
      if (cursorIndex >= 0 && last[cursorIndex] !== null) cursorMax = last[cursorIndex];
      rowsDone += rows.length;
      onProgress({ rowsDone, after: orderIndexes.map((i) => last[i]), cursorMax, created, owned });
    }
    const cursor = request.incremental
      ? { column: request.incremental.column, max: cursorMax ?? request.incremental.after ?? null }
      : undefined;
    return { rowCount: rowsDone, created, keyColumns, ...(cursor ? { cursor } : {}) };
  } finally {
    await Promise.all([src.close().catch(() => undefined), dst.close().catch(() => undefined)]);
  }
}
