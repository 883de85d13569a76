import type { FieldPacket, Pool } from 'mysql2/promise';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import type { ColumnSpec } from '../types/canonical-type';
import type { BoundedQueryOptions, BoundedQueryResult } from '../types/data-connection';
import { BadValue } from '../values/bad-value';
import { fieldColumn } from './catalog';
import { type FromDriver, mysqlFromDriver } from './from-driver';
import { connectMysql, type MysqlSettings } from './pool';

interface StreamedQuery {
  on(event: 'fields', cb: (fields: FieldPacket[]) => void): StreamedQuery;
  on(event: 'result', cb: (row: unknown[]) => void): StreamedQuery;
  on(event: 'error', cb: (err: Error) => void): StreamedQuery;
  on(event: 'end', cb: () => void): StreamedQuery;
}

/**
 * One statement (the pool refuses stacked ones) in a READ ONLY transaction under the session's
 * statement timeout, streamed row by row and stopped on the server (KILL) once maxRows + 1
 * rows have come. Parameters must already be bound into the text (the caller's guard checks
 * exactly what runs). Values are made canonical exactly as readRows makes them.
 */
export async function queryMysql(
  pool: Pool,
  settings: MysqlSettings,
  sql: string,
  params: unknown[],
  options: BoundedQueryOptions,
): Promise<BoundedQueryResult> {
  const { maxRows, signal } = options;
  if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'the query was cancelled');
  const conn = await connectMysql(pool, settings);
  // The whole connection (it is dropped anyway): a KILL QUERY that lands before the statement starts is lost.
  const kill = (threadId: number) => pool.query(`KILL ${Number(threadId)}`).catch(() => undefined);
  let destroy = false;
  try {
    await conn.query('START TRANSACTION READ ONLY');
    const threadId = conn.threadId;
    return await new Promise<BoundedQueryResult>((resolve, reject) => {
      const rows: unknown[][] = [];
      let columns: ColumnSpec[] = [];
      let conv: (FromDriver | undefined)[] = [];
      let truncated = false;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else
          resolve({
            columns: columns.map((c) => ({ name: c.name, type: c.nativeType })),
            rows,
            rowCount: rows.length,
            truncated,
          });
      };
      const stop = () => {
        destroy = true;
        void kill(threadId);
      };
      const onAbort = () => {
        stop();
        finish(new DataflowError(DataflowErrorCode.CANCELLED, 'the query was cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // Aborted while the transaction was being opened: the listener above came too late to hear it.
      if (signal?.aborted) return onAbort();
      // The callback-style connection streams rows one by one instead of buffering the result.
      const query = (conn.connection as unknown as { query(o: object): StreamedQuery }).query({
        sql,
        values: params,
        rowsAsArray: true,
      });
      query
        .on('fields', (fields) => {
          columns = fields.map((f) => fieldColumn(f as unknown as Parameters<typeof fieldColumn>[0], settings));
          conv = columns.map((c) => mysqlFromDriver(c.type));
        })
        .on('result', (row) => {
          if (settled) return;
          if (rows.length === maxRows) {
            // Enough: stop the server producing the rest, keep what we have.
            truncated = true;
            stop();
            finish();
            return;
          }
          for (let i = 0; i < row.length; i++) {
            const f = conv[i];
            if (!f || row[i] === null) continue;
            try {
              row[i] = f(row[i]);
            } catch (err) {
              stop();
              const column = columns[i]!.name;
              const message = err instanceof BadValue || err instanceof SyntaxError ? err.message : String(err);
              finish(
                new DataflowError(
                  DataflowErrorCode.BAD_VALUE,
                  `cannot read query.${column} (row ${rows.length + 1}): ${message}`,
                  { column, row: rows.length, cause: err },
                ),
              );
              return;
            }
          }
          rows.push(row);
        })
        .on('error', (err) => finish(err))
        .on('end', () => finish());
    });
  } catch (err) {
    const e = normaliseError(err, DataflowErrorCode.READ_FAILED, 'the query failed');
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) destroy = true;
    throw e;
  } finally {
    if (destroy) conn.destroy();
    else {
      await conn.query('ROLLBACK').catch(() => undefined);
      conn.release();
    }
  }
}
