import { tableLabel } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import type { DataConnection } from '../types/data-connection';
import { planSyncRead, renderColumn, type KeyRange, type SyncReadPlan, type SyncTableRequest } from './sync-read-plan';

/** Count and checksum of the rows of one key range (the sum of each row's 60-bit hash, as decimal text). */
export interface RangeChecksum {
  count: number;
  sum: string;
}

/** The whole table's checksum and its first key's bounds (null when empty). */
export interface TableChecksumBounds extends RangeChecksum {
  min: string | null;
  max: string | null;
}

/** Ranges per statement (each is one index range scan; the statement stays small). */
const RANGES_PER_STATEMENT = 64;
const INTEGER = /^-?\d{1,20}$/;

/**
 * The SQL of one row's hash: md5 over the row's columns rendered alike on both dialects, each
 * length-prefixed (so no value can fake a column boundary, and NULL differs from any text), the
 * first 60 bits as an integer. Summed per range, the database computes a checksum without a row
 * leaving it (data-diff's approach); a sum of 60-bit values is exact in DECIMAL and NUMERIC.
 */
export function rowHashSql(plan: SyncReadPlan, dialect: DataConnection['dialect']): string {
  const where = tableLabel(plan.table);
  const items = plan.columns.map((column) => {
    const e = renderColumn(column, dialect, where);
    return dialect === 'mysql'
      ? `COALESCE(CONCAT(CHAR_LENGTH(${e}), ':', ${e}), '-')`
      : `COALESCE(char_length(${e}) || ':' || ${e}, '-')`;
  });
  return dialect === 'mysql'
    ? `CAST(CONV(SUBSTR(MD5(CONCAT_WS(',', ${items.join(', ')})), 1, 15), 16, 10) AS UNSIGNED)`
    : `('x' || substr(md5(concat_ws(',', ${items.join(', ')})), 1, 15))::bit(60)::bigint`;
}

function rangeWhere(key: string, range: KeyRange): string {
  for (const bound of [range.after, range.upTo])
    if (bound !== null && !INTEGER.test(bound))
      throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `a key range bound must be an integer, not ${bound}`);
  return `${range.after === null ? '' : `${key} > ${range.after} AND `}${key} <= ${range.upTo}`;
}

/**
 * Count and checksum per key range, computed by the database (read-only: the connection's
 * `query` runs one statement in a READ ONLY transaction under its timeout). Without ranges, the
 * whole table's, with the first key's bounds: when both sides agree on it, a sync reads nothing else.
 */
export async function rangeChecksums(
  conn: DataConnection,
  request: SyncTableRequest & { ranges?: KeyRange[] },
): Promise<{ bounds?: TableChecksumBounds; ranges?: RangeChecksum[] }> {
  const plan = await planSyncRead(conn, request);
  const dialect = conn.dialect;
  const my = dialect === 'mysql';
  const hash = rowHashSql(plan, dialect);
  const from = quoteTable(plan.table, dialect);
  const key = quoteIdent(plan.keyColumns[0]!, dialect);
  const text = (e: string) => (my ? `CAST(${e} AS CHAR)` : `(${e})::text`);
  const run = async (sql: string, rows: number) =>
    (await conn.query(sql, [], { maxRows: rows, ...(request.signal ? { signal: request.signal } : {}) })).rows;
  if (!request.ranges) {
    const [row] = await run(
      `SELECT COUNT(*) AS n, ${text(`COALESCE(SUM(${hash}), 0)`)} AS s, ${text(`MIN(${key})`)} AS lo, ${text(`MAX(${key})`)} AS hi FROM ${from}`,
      1,
    );
    return {
      bounds: {
        count: Number(row![0]),
        sum: String(row![1]),
        min: row![2] === null ? null : String(row![2]),
        max: row![3] === null ? null : String(row![3]),
      },
    };
  }
  const out: RangeChecksum[] = [];
  for (let i = 0; i < request.ranges.length; i += RANGES_PER_STATEMENT) {
    const batch = request.ranges.slice(i, i + RANGES_PER_STATEMENT);
    const sql = batch
      .map(
        (range, j) =>
          `SELECT ${j} AS r, COUNT(*) AS n, ${text(`COALESCE(SUM(${hash}), 0)`)} AS s FROM ${from} WHERE ${rangeWhere(key, range)}`,
      )
      .join(' UNION ALL ');
    const rows = await run(sql, batch.length);
    const byIndex = new Map(rows.map((r) => [Number(r[0]), r] as const));
    batch.forEach((_, j) => {
      const r = byIndex.get(j);
      out.push({ count: r ? Number(r[1]) : 0, sum: r ? String(r[2]) : '0' });
    });
  }
  return { ranges: out };
}
