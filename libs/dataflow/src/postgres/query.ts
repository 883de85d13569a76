import type { FieldDef, Pool } from 'pg';
import Cursor from 'pg-cursor';
import type { BoundedQueryOptions, BoundedQueryResult } from '../types/data-connection';
import { describeFields } from './catalog';
import { type PgSettings, RAW_TYPES } from './pool';
import { withReadOnlySession } from './read-only-session';
import { convertRows, converters, queryParams } from './reader';

/** Rows fetched per round trip from the portal. */
const FETCH_BATCH = 500;

function readBatch(cursor: Cursor, n: number): Promise<{ rows: unknown[][]; fields: FieldDef[] }> {
  return new Promise((resolve, reject) =>
    cursor.read(n, (err, rows, result) =>
      err
        ? reject(err)
        : resolve({ rows: rows as unknown as unknown[][], fields: (result?.fields ?? []) as FieldDef[] }),
    ),
  );
}

/**
 * One statement (any read the caller's guard allows, SHOW and EXPLAIN included) through a portal of
 * the extended protocol, so a second statement in the text can never run; in a READ ONLY
 * transaction under the session's statement timeout; at most maxRows + 1 rows are ever fetched.
 * Values are made canonical exactly as readRows makes them.
 */
export async function queryPostgres(
  pool: Pool,
  settings: PgSettings,
  sql: string,
  params: unknown[],
  options: BoundedQueryOptions,
): Promise<BoundedQueryResult> {
  const { maxRows, signal } = options;
  const messages = { cancelledMessage: 'the query was cancelled', failureMessage: 'the query failed' };
  return withReadOnlySession(pool, settings, { signal, ...messages }, async (client) => {
    const cursor = client.query(new Cursor(sql, queryParams(params), { rowMode: 'array', types: RAW_TYPES }));
    const rows: unknown[][] = [];
    let fields: FieldDef[] = [];
    let truncated = false;
    for (;;) {
      const batch = await readBatch(cursor, Math.min(FETCH_BATCH, maxRows + 1 - rows.length));
      if (batch.fields.length) fields = batch.fields;
      for (const row of batch.rows) {
        if (rows.length === maxRows) {
          truncated = true;
          break;
        }
        rows.push(row);
      }
      if (truncated || batch.rows.length === 0) break;
    }
    await new Promise<void>((resolve) => cursor.close(() => resolve()));
    // The portal is closed: the catalog can be asked about the result's types on this connection.
    const columns = await describeFields(client, fields);
    convertRows(rows, columns, converters(columns), 'query', 0);
    return {
      columns: columns.map((c) => ({ name: c.name, type: c.nativeType })),
      rows,
      rowCount: rows.length,
      truncated,
    };
  });
}
