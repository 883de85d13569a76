import type { FieldPacket, Pool, PoolConnection } from 'mysql2/promise';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import { keysetAfter, limitClause, resolveTableSource } from '../keyset';
import { type ColumnSpec } from '../types/canonical-type';
import { tableLabel } from '@vansales/protocol';
import type { ReadOptions, ReadSource } from '../types/data-connection';
import { BadValue } from '../values/bad-value';
import { isBinaryValue } from '../values/canonical-values';
import { describeMysqlTable, fieldColumn } from './catalog';
import { type FromDriver, mysqlFromDriver } from './from-driver';
import { mysqlLiteral } from './literals';
import { connectMysql, type MysqlSettings, setStatementTimeout } from './pool';

/** The callback-style connection under a promise one: it streams rows as events. */
interface RawConnection {
  query(options: { sql: string; values?: unknown[]; rowsAsArray: boolean }): RawQuery;
  pause(): void;
  resume(): void;
}
interface RawQuery {
  on(event: 'fields', cb: (fields: FieldPacket[]) => void): RawQuery;
  on(event: 'result', cb: (row: unknown[]) => void): RawQuery;
  on(event: 'error', cb: (err: Error) => void): RawQuery;
  on(event: 'end', cb: () => void): RawQuery;
}

/**
 * Batches queued before the socket is paused: one, so the server keeps sending while the caller
 * writes the batch it has, and no more (two held 20,000 more rows in a one-site transfer, and the
 * agent over its memory target, for no speed: bench/README.md).
 */
const QUEUED_BATCHES = 1;

interface Plan {
  sql: string;
  values?: unknown[];
  columns?: ColumnSpec[];
  label: string;
}

function orderExpr(c: ColumnSpec, options: ReadOptions): string {
  const q = quoteIdent(c.name, 'mysql');
  // Code point order whatever the column's charset and collation, to match PostgreSQL's COLLATE "C".
  return options.binaryOrder && c.type.kind === 'text' ? `CAST(CONVERT(${q} USING utf8mb4) AS BINARY)` : q;
}

async function planTable(
  conn: PoolConnection,
  settings: MysqlSettings,
  source: Extract<ReadSource, { kind: 'table' }>,
  options: ReadOptions,
): Promise<Plan> {
  const label = tableLabel(source.table);
  const described = await describeMysqlTable(conn, source.table, settings);
  if (!described)
    throw new DataflowError(DataflowErrorCode.NOT_FOUND, `table ${label} does not exist`, { table: label });
  const plan = resolveTableSource(source, described.columns, label);
  const q = (n: string) => quoteIdent(n, 'mysql');
  const literal = (c: ColumnSpec, v: unknown) => {
    try {
      return mysqlLiteral(c.type)(v);
    } catch (err) {
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `keyset value for ${label}.${c.name}: ${(err as Error).message}`,
        { table: label, column: c.name },
      );
    }
  };
  // MySQL prints FLOAT with 6 significant digits; as DOUBLE it is exact.
  const select = plan.columns.map((c) =>
    c.type.kind === 'float' && c.type.bits === 32 ? `(${q(c.name)} + 0e0) AS ${q(c.name)}` : q(c.name),
  );
  const where: string[] = [];
  if (plan.incremental) {
    const inc = plan.incremental;
    if (inc.after !== undefined && inc.after !== null)
      where.push(`${q(inc.column.name)} > ${literal(inc.column, inc.after)}`);
    else where.push(`${q(inc.column.name)} IS NOT NULL`);
    if (inc.upTo !== undefined && inc.upTo !== null)
      where.push(`${q(inc.column.name)} <= ${literal(inc.column, inc.upTo)}`);
  }
  if (plan.after) {
    const after = plan.after;
    where.push(
      keysetAfter(
        'mysql',
        plan.order.map((c) => orderExpr(c, options)),
        plan.order.map((c, i) => literal(c, after[i])),
      ),
    );
  }
  const order = plan.order.map((c) => orderExpr(c, options));
  const sql = `SELECT ${select.join(', ')} FROM ${quoteTable(source.table, 'mysql')}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order.length ? ` ORDER BY ${order.join(', ')}` : ''}${limitClause(source.limit)}`;
  return { sql, columns: plan.columns, label };
}

function queryValues(params: unknown[] | undefined): unknown[] | undefined {
  if (!params) return undefined;
  return params.map((v) =>
    isBinaryValue(v)
      ? Buffer.from(v.$binary, 'base64')
      : v !== null && typeof v === 'object' && !Buffer.isBuffer(v)
        ? JSON.stringify(v)
        : v,
  );
}

/**
 * One streamed SELECT in a READ ONLY transaction WITH CONSISTENT SNAPSHOT. Rows are made
 * canonical as they arrive and handed over in batches; when QUEUED_BATCHES wait unread the
 * socket is paused (TCP backpressure reaches the server), and resumed as the caller catches up.
 */
export async function* readMysql(
  pool: Pool,
  settings: MysqlSettings,
  source: ReadSource,
  options: ReadOptions,
): AsyncGenerator<unknown[][], void, undefined> {
  const batchSize = Math.max(1, Math.floor(options.batchSize));
  const signal = options.signal;
  if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled');
  const label = source.kind === 'table' ? tableLabel(source.table) : 'query';
  const conn = await connectMysql(pool, settings);
  const raw = conn.connection as unknown as RawConnection;
  let finished = false;
  let destroyed = false;
  const drop = () => {
    if (destroyed) return;
    destroyed = true;
    conn.destroy();
  };
  let failure: DataflowError | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onAbort = () => {
    failure ??= new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled', { table: label });
    // Closing the socket stops the server sending; the connection is not reused.
    drop();
    notify();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // A streamed read is one statement for the whole table: the per-statement limit would cut it short.
    if (settings.statementTimeoutMs) await setStatementTimeout(conn, 0);
    await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const plan: Plan =
      source.kind === 'table'
        ? await planTable(conn, settings, source, options)
        : { sql: source.sql.replace(/;\s*$/, ''), values: queryValues(source.params), label };
    let columns = plan.columns;
    let conv: (FromDriver | undefined)[] = columns ? columns.map((c) => mysqlFromDriver(c.type)) : [];
    let active: number[] = [];
    const setActive = () => {
      active = [];
      conv.forEach((f, i) => f && active.push(i));
    };
    setActive();
    const queue: unknown[][][] = [];
    let batch: unknown[][] = [];
    let ended = false;
    let paused = false;
    let offset = 0;
    const query = raw.query({ sql: plan.sql, ...(plan.values ? { values: plan.values } : {}), rowsAsArray: true });
    query
      .on('fields', (fields) => {
        if (!columns) {
          columns = fields.map((f) => fieldColumn(f as unknown as Parameters<typeof fieldColumn>[0], settings));
          conv = columns.map((c) => mysqlFromDriver(c.type));
          setActive();
        }
      })
      .on('result', (row) => {
        if (failure) return;
        for (const i of active) {
          const v = row[i];
          if (v === null) continue;
          try {
            row[i] = conv[i]!(v);
          } catch (err) {
            const column = columns![i]!.name;
            const row1 = offset + batch.length + 1;
            failure = new DataflowError(
              DataflowErrorCode.BAD_VALUE,
              `cannot read ${label}.${column} (row ${row1}): ${err instanceof BadValue || err instanceof SyntaxError ? err.message : String(err)}`,
              {
                table: label,
                column,
                row: row1 - 1,
                cause: err,
              },
            );
            drop();
            notify();
            return;
          }
        }
        batch.push(row);
        if (batch.length >= batchSize) {
          queue.push(batch);
          offset += batch.length;
          batch = [];
          if (queue.length >= QUEUED_BATCHES && !paused) {
            paused = true;
            raw.pause();
          }
          notify();
        }
      })
      .on('error', (err) => {
        failure ??= normaliseError(err, DataflowErrorCode.READ_FAILED, `cannot read ${label}`, { table: label });
        notify();
      })
      .on('end', () => {
        if (batch.length) queue.push(batch);
        batch = [];
        ended = true;
        notify();
      });
    for (;;) {
      if (failure) throw failure;
      const next = queue.shift();
      if (next) {
        if (paused && queue.length < QUEUED_BATCHES) {
          paused = false;
          raw.resume();
        }
        yield next;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    await conn.query('COMMIT');
    if (settings.statementTimeoutMs) await setStatementTimeout(conn, settings.statementTimeoutMs);
    finished = true;
  } catch (err) {
    if (signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled', { table: label });
    throw normaliseError(err, DataflowErrorCode.READ_FAILED, `cannot read ${label}`, { table: label });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Stopped early (the caller broke out, a value failed): the rest of the result is still
    // coming; dropping the connection is cheaper than reading it to the end.
    if (finished) conn.release();
    else drop();
  }
}
