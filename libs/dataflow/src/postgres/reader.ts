import type { FieldDef, Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import { keysetAfter, limitClause, resolveTableSource } from '../keyset';
import { type ColumnSpec } from '../types/canonical-type';
import { tableLabel } from '@vansales/protocol';
import type { LineBatch, ReadOptions, ReadSource } from '../types/data-connection';
import { BadValue } from '../values/bad-value';
import { isBinaryValue } from '../values/canonical-values';
import { describeFields, describePgTable } from './catalog';
import { CopyLines } from './copy-lines';
import { pgToText } from './copy-text';
import { type FromText, pgFromText } from './from-text';
import { connectPg, type PgSettings, RAW_TYPES } from './pool';

const CURSOR = 'vsc_read';

interface Plan {
  sql: string;
  params: unknown[];
  /** Known up front for tables; for queries, from the first FETCH's RowDescription. */
  columns?: ColumnSpec[];
  label: string;
}

/** SELECT ... WHERE keyset/incremental ORDER BY key, with the keyset values as parameters. */
async function planTable(
  client: PoolClient,
  source: Extract<ReadSource, { kind: 'table' }>,
  options: ReadOptions,
): Promise<Plan> {
  const label = tableLabel(source.table);
  const described = await describePgTable(client, source.table);
  if (!described)
    throw new DataflowError(DataflowErrorCode.NOT_FOUND, `table ${label} does not exist`, { table: label });
  const plan = resolveTableSource(source, described.columns, label);
  const q = (n: string) => quoteIdent(n, 'postgres');
  const params: unknown[] = [];
  const param = (c: ColumnSpec, v: unknown) => {
    params.push(pgToText(c.type)(v));
    return `$${params.length}`;
  };
  // money prints per lc_monetary ('$1,234.50'); its numeric form is exact and portable.
  const select = plan.columns.map((c) =>
    /^money$/.test(c.nativeType) ? `${q(c.name)}::numeric AS ${q(c.name)}` : q(c.name),
  );
  const where: string[] = [];
  if (plan.incremental) {
    const inc = plan.incremental;
    if (inc.after !== undefined && inc.after !== null)
      where.push(`${q(inc.column.name)} > ${param(inc.column, inc.after)}`);
    else where.push(`${q(inc.column.name)} IS NOT NULL`);
    if (inc.upTo !== undefined && inc.upTo !== null)
      where.push(`${q(inc.column.name)} <= ${param(inc.column, inc.upTo)}`);
  }
  if (plan.after) {
    const after = plan.after;
    where.push(
      keysetAfter(
        'postgres',
        plan.order.map((c) => orderExpr(c, options)),
        plan.order.map((c, i) => param(c, after[i])),
      ),
    );
  }
  const order = plan.order.map(
    (c) => `${orderExpr(c, options)}${options.binaryOrder && c.nullable ? ' NULLS FIRST' : ''}`,
  );
  const sql = `SELECT ${select.join(', ')} FROM ${quoteTable(source.table, 'postgres')}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order.length ? ` ORDER BY ${order.join(', ')}` : ''}${limitClause(source.limit)}`;
  return { sql, params, columns: plan.columns, label };
}

/** Under binaryOrder text sorts by code point (MySQL sorts its copy the same way). */
function orderExpr(c: ColumnSpec, options: ReadOptions): string {
  const q = quoteIdent(c.name, 'postgres');
  return options.binaryOrder && c.type.kind === 'text' ? `${q} COLLATE "C"` : q;
}

export function queryParams(params: unknown[] | undefined): unknown[] {
  return (params ?? []).map((v) =>
    isBinaryValue(v)
      ? Buffer.from(v.$binary, 'base64')
      : v !== null && typeof v === 'object' && !Buffer.isBuffer(v)
        ? JSON.stringify(v)
        : v,
  );
}

export function converters(columns: ColumnSpec[]): (FromText | undefined)[] {
  return columns.map((c) => pgFromText(c.type));
}

/** Makes a batch of raw rows canonical in place. */
export function convertRows(
  rows: unknown[][],
  columns: ColumnSpec[],
  conv: (FromText | undefined)[],
  label: string,
  offset: number,
): void {
  const active: number[] = [];
  conv.forEach((f, i) => f && active.push(i));
  if (active.length === 0) return;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (const i of active) {
      const v = row[i];
      if (v === null) continue;
      try {
        row[i] = conv[i]!(v as string);
      } catch (err) {
        const column = columns[i]!.name;
        throw new DataflowError(
          DataflowErrorCode.BAD_VALUE,
          `cannot read ${label}.${column} (row ${offset + r + 1}): ${err instanceof BadValue || err instanceof SyntaxError ? err.message : String(err)}`,
          {
            table: label,
            column,
            row: offset + r,
            cause: err,
          },
        );
      }
    }
  }
}

/**
 * A server-side cursor in a READ ONLY REPEATABLE READ transaction: one snapshot for the whole
 * read, memory bounded by the batch size. The next FETCH is sent before the current batch is
 * handed over, so the server works while the caller writes.
 */
export async function* readPostgres(
  pool: Pool,
  settings: PgSettings,
  source: ReadSource,
  options: ReadOptions,
): AsyncGenerator<unknown[][], void, undefined> {
  const batchSize = Math.max(1, Math.floor(options.batchSize));
  const signal = options.signal;
  if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled');
  const client = await connectPg(pool, settings);
  let broken = false;
  let open = false;
  let pending: Promise<QueryResult<unknown[]>> | undefined;
  let rejectCurrent: ((err: Error) => void) | undefined;
  const onAbort = () => {
    broken = true;
    rejectCurrent?.(new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled'));
  };
  // Each wait gets its own abort hook, dropped once it settles. (Racing every batch against one
  // long-lived "aborted" promise kept every batch reachable until the read ended: memory grew with
  // the table, not the batch.)
  const untilFetched = (p: Promise<QueryResult<unknown[]>>) =>
    new Promise<QueryResult<unknown[]>>((resolve, reject) => {
      rejectCurrent = reject;
      p.then(resolve, reject).finally(() => (rejectCurrent = undefined));
    });
  signal?.addEventListener('abort', onAbort, { once: true });
  const label = source.kind === 'table' ? tableLabel(source.table) : 'query';
  const fetch = () => {
    const p = client.query<unknown[]>({
      text: `FETCH FORWARD ${batchSize} FROM ${CURSOR}`,
      rowMode: 'array',
      types: RAW_TYPES,
    });
    p.catch(() => undefined);
    return p;
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open = true;
    if (settings.statementTimeoutMs)
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(settings.statementTimeoutMs)}`);
    const plan: Plan =
      source.kind === 'table'
        ? await planTable(client, source, options)
        : { sql: source.sql.replace(/;\s*$/, ''), params: queryParams(source.params), label };
    // Extended protocol even without parameters: a second statement in a query's text cannot run.
    await client.query({
      text: `DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${plan.sql}`,
      values: plan.params,
      queryMode: 'extended',
    } as QueryConfig);
    let columns = plan.columns;
    let conv = columns ? converters(columns) : undefined;
    let offset = 0;
    pending = fetch();
    for (;;) {
      const result: QueryResult<unknown[]> = await untilFetched(pending);
      pending = result.rows.length === batchSize ? fetch() : undefined;
      if (!columns || !conv) {
        columns = await describeFields(client, result.fields as FieldDef[]);
        conv = converters(columns);
      }
      const rows = result.rows;
      if (rows.length === 0) break;
      convertRows(rows, columns, conv, plan.label, offset);
      offset += rows.length;
      yield rows;
      if (signal?.aborted) onAbort();
      if (!pending) break;
    }
    await client.query('COMMIT');
    open = false;
  } catch (err) {
    if (signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled', { table: label });
    const e = normaliseError(err, DataflowErrorCode.READ_FAILED, `cannot read ${label}`, { table: label });
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!broken && open) {
      // Also reached when the caller stops early: a prefetched FETCH may still be in flight; the
      // ROLLBACK queues behind it on the same connection.
      await client.query('ROLLBACK').catch(() => (broken = true));
    }
    client.release(broken ? new Error('discarded') : undefined);
  }
}

/**
 * readPostgres's rows as the buffer's chunk lines (`LineBatch`), made from a COPY's text output
 * (CopyLines) instead of pg's per-field strings: the same snapshot (READ ONLY REPEATABLE READ), the
 * same statement, the same bytes as JSON.stringify of readPostgres's rows. Only for a table read
 * without parameters (no keyset start, no incremental window: COPY takes none; the connection's
 * readLines checks that). Memory: COPY's socket is paused while a batch waits for the caller.
 */
export async function* readPostgresLines(
  pool: Pool,
  settings: PgSettings,
  source: Extract<ReadSource, { kind: 'table' }>,
  options: ReadOptions,
): AsyncGenerator<LineBatch, void, undefined> {
  const batchSize = Math.max(1, Math.floor(options.batchSize));
  const signal = options.signal;
  if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled');
  const label = tableLabel(source.table);
  const client = await connectPg(pool, settings);
  let broken = false;
  let open = false;
  let copying = false;
  let stream: ReturnType<typeof copyTo> | undefined;
  const onAbort = () => {
    broken = true;
    stream?.destroy(new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open = true;
    if (settings.statementTimeoutMs)
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(settings.statementTimeoutMs)}`);
    const plan = await planTable(client, source, options);
    if (plan.params.length > 0)
      throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `a COPY read of ${label} cannot take parameters`);
    const lines = new CopyLines(plan.columns!, plan.label);
    copying = true;
    stream = client.query(copyTo(`COPY (${plan.sql}) TO STDOUT`));
    let carry: Buffer | undefined;
    let count = 0;
    const batch = () => {
      const bytes = lines.take();
      const last = bytes.lastIndexOf(0x0a, bytes.length - 2) + 1;
      const out: LineBatch = { lines: bytes, rows: count, last: JSON.parse(bytes.toString('utf8', last)) as unknown[] };
      count = 0;
      return out;
    };
    for await (const piece of stream as AsyncIterable<Buffer>) {
      const src = carry ? Buffer.concat([carry, piece]) : piece;
      let at = 0;
      for (;;) {
        const before = lines.rows;
        at = lines.add(src, at, src.length, batchSize - count);
        count += lines.rows - before;
        if (count < batchSize) break;
        yield batch();
      }
      // A row cut between pieces waits for the rest (a copy: the piece is the stream's).
      carry = at < src.length ? Buffer.from(src.subarray(at)) : undefined;
    }
    copying = false;
    if (carry) throw new DataflowError(DataflowErrorCode.READ_FAILED, `cannot read ${label}: the COPY ended mid-row`);
    if (count > 0) yield batch();
    await client.query('COMMIT');
    open = false;
  } catch (err) {
    if (signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'the read was cancelled', { table: label });
    const e = normaliseError(err, DataflowErrorCode.READ_FAILED, `cannot read ${label}`, { table: label });
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // A COPY left midway (the caller stopped early, or a row failed) keeps the connection busy: drop it.
    if (copying) broken = true;
    if (!broken && open) await client.query('ROLLBACK').catch(() => (broken = true));
    client.release(broken ? new Error('discarded') : undefined);
  }
}
