import type { FieldDef, Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import { keysetAfter, limitClause, resolveTableSource } from '../keyset';
import { type ColumnSpec } from '../types/canonical-type';
import { tableLabel } from '@vansales/protocol';
import type { ReadOptions, ReadSource } from '../types/data-connection';
import { BadValue } from '../values/bad-value';
import { isBinaryValue } from '../values/canonical-values';
import { describeFields, describePgTable } from './catalog';
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
