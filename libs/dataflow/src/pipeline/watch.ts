import { setTimeout as sleep } from 'node:timers/promises';
import { tableLabelOf, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { DataConnection, NotificationListener } from '../types/data-connection';
import type { ExtractPosition } from './chunked-extract';
import type { DataPolicy } from './data-policy';
import { extractTable, type ExtractResult, type ObjectSink } from './extract';
import { quoteIdent, quoteTable } from '../identifiers';
import { assertPositionsUnprotected, resolveReadable } from './read-policy';

export interface WatchTableRequest {
  database: string;
  table: TableRef;
  cursorColumn: string;
  keyColumns: string[];
  /** Order values of the last row already delivered: [cursor, ...keys other than the cursor]. */
  after?: unknown[];
  batchRows: number;
  /** How long to wait for a new row before answering with none. */
  waitMs: number;
  /** PostgreSQL: a NOTIFY on this channel ends the wait early. */
  notifyChannel?: string;
  policy: DataPolicy;
  signal?: AbortSignal;
  /** Told when the table had nothing new and the wait begins (listening already, when a channel is set). */
  onWaiting?: () => void;
  /** Only the table's last row position (`last`), at once: no row is extracted, nothing waits. */
  anchor?: boolean;
}

/** The batch (rowCount 0 and nothing written when no row came within the wait), and what woke the watch. */
export type WatchResult = ExtractResult & { woke: 'rows' | 'notify' | 'poll' };

/**
 * One step of a table watch (the site-event trigger): the next batch of at most `batchRows` rows
 * past `after`, read as an extract into `sink`, or none after waiting `waitMs`. Rows are ordered by
 * the cursor and then the key columns and `after` holds both, so rows sharing a cursor value are
 * split across batches without loss or repeat. The policy is checked on the read's positions first:
 * a protected cursor or key column refuses the watch before any row is read.
 */
export async function watchTable(
  conn: DataConnection,
  request: WatchTableRequest,
  sink: ObjectSink,
  onChunk: (position: ExtractPosition) => void,
): Promise<WatchResult> {
  const { database, policy, cursorColumn } = request;
  const resolved = await resolveReadable(conn, policy, database, request.table, request.signal);
  assertPositionsUnprotected(policy, database, resolved.table, request.keyColumns, cursorColumn);
  const orderBy = request.keyColumns.filter((k) => k !== cursorColumn);
  if (request.after && request.after.length !== orderBy.length + 1)
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      `a watch position of ${tableLabelOf(database, request.table)} has ${orderBy.length + 1} values (${[cursorColumn, ...orderBy].join(', ')}), not ${request.after.length}`,
    );
  if (request.anchor) {
    const last = await lastPosition(conn, resolved.table, [cursorColumn, ...orderBy], request.signal);
    return { rowCount: 0, chunkCount: 0, keyColumns: request.keyColumns, ...(last ? { last } : {}), woke: 'rows' };
  }
  if (request.notifyChannel && !conn.listen)
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      `notifyChannel ${request.notifyChannel}: LISTEN/NOTIFY is PostgreSQL's; ${database} is ${conn.dialect}, whose watch polls the cursor`,
    );
  // Listening starts before the first read, so a row committed between that read and the wait
  // still wakes it.
  const listener: NotificationListener | undefined = request.notifyChannel
    ? await conn.listen!(request.notifyChannel)
    : undefined;
  try {
    const anyNew = async () => {
      for await (const batch of conn.readRows(
        {
          kind: 'table',
          table: resolved.table,
          columns: [cursorColumn, ...orderBy],
          orderBy,
          incremental: { column: cursorColumn },
          ...(request.after ? { after: request.after } : {}),
          limit: 1,
        },
        { batchSize: 1, signal: request.signal },
      ))
        if (batch.length > 0) return true;
      return false;
    };
    let woke: 'rows' | 'notify' | 'poll' = 'rows';
    if (!(await anyNew())) {
      request.onWaiting?.();
      const waited = listener
        ? await listener.wait(request.waitMs, request.signal)
        : await pause(request.waitMs, request.signal);
      woke = waited === 'notify' ? 'notify' : 'poll';
      if (!(await anyNew())) return { rowCount: 0, chunkCount: 0, keyColumns: request.keyColumns, woke };
    }
    const result = await extractTable(
      conn,
      {
        database,
        table: request.table,
        keyColumns: request.keyColumns,
        incremental: { column: cursorColumn },
        // The batch starts after the delivered position: a keyset start, not a resumed chunk.
        resume: { chunksDone: 0, rowsDone: 0, ...(request.after ? { after: request.after } : {}) },
        maxRows: request.batchRows,
        chunkRows: Math.min(request.batchRows, 50_000),
        policy,
        signal: request.signal,
      },
      sink,
      onChunk,
    );
    return { ...result, woke };
  } finally {
    await listener?.close();
  }
}

/**
 * The order values of the table's last row in the watch's order (cursor, then keys; rows without a
 * cursor value are never delivered, so they are not the end either), or undefined when it has none.
 */
async function lastPosition(
  conn: DataConnection,
  table: TableRef,
  order: string[],
  signal: AbortSignal | undefined,
): Promise<unknown[] | undefined> {
  const d = conn.dialect;
  const cols = order.map((c) => quoteIdent(c, d));
  const by = cols.map((c) => `${c} DESC`).join(', ');
  const from = `FROM ${quoteTable(table, d)} WHERE ${cols[0]} IS NOT NULL ORDER BY ${by}`;
  const sql = d === 'mssql' ? `SELECT TOP 1 ${cols.join(', ')} ${from}` : `SELECT ${cols.join(', ')} ${from} LIMIT 1`;
  const result = await conn.query(sql, [], { maxRows: 1, ...(signal ? { signal } : {}) });
  return result.rows[0];
}

async function pause(ms: number, signal?: AbortSignal): Promise<'timeout'> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new DataflowError(DataflowErrorCode.CANCELLED, 'the watch was cancelled');
  }
  return 'timeout';
}
