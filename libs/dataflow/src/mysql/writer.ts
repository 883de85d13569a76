import { Readable } from 'node:stream';
import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { DataflowError, DataflowErrorCode, isConnectionError, normaliseError } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import { type CanonicalType, type ColumnSpec } from '../types/canonical-type';
import { tableLabel, type TableRef } from '@vansales/protocol';
import type { WriteOptions } from '../types/data-connection';
import { BadValue } from '../values/bad-value';
import { mysqlLiteral, type ToLiteral } from './literals';
import { releaseOwned } from '../chunk-codec';
import { lineFieldsFor, linePieces } from '../values/line-fields';
import { connectMysql, type MysqlSettings } from './pool';

/**
 * Statement size aimed for: big enough that per-statement overhead vanishes, small enough that
 * the server parses one while the next is being built. Never above max_allowed_packet / 4
 * (a character can take 4 bytes in UTF-8... 3 for a UTF-16 unit, plus margin).
 */
const TARGET_STATEMENT_CHARS = 4 * 1024 * 1024;

/** Errors about one value (MySQL names the column and row); the rest are about the write. */
const VALUE_ERRNOS = new Set([1048, 1264, 1265, 1292, 1366, 1367, 1406, 1411, 3140, 4025, 1690]);

export function mysqlWriteError(err: unknown, label: string, firstRow: number): DataflowError {
  if (err instanceof DataflowError) return err;
  const e = err as { errno?: number; sqlMessage?: string; message?: string; code?: string };
  // Node's socket errors carry a numeric errno too (ECONNRESET is -104): the connection failed, not the write.
  if (typeof e?.errno !== 'number' || isConnectionError(err))
    return normaliseError(err, DataflowErrorCode.WRITE_FAILED, `cannot write ${label}`, { table: label });
  const message = e.sqlMessage ?? e.message ?? String(err);
  const m =
    /column [`']?(?:[^`']*[`']\.[`'])*([^`']+)[`']? at row (\d+)/i.exec(message) ??
    /Column '([^']+)' cannot be null/i.exec(message) ??
    /CONSTRAINT `([^`]+)` failed/i.exec(message);
  const column = m?.[1];
  const row = m?.[2] !== undefined ? firstRow + Number(m[2]) - 1 : undefined;
  const where = `${label}${column ? `.${column}` : ''}${row !== undefined ? ` (row ${row + 1})` : ''}`;
  return new DataflowError(
    VALUE_ERRNOS.has(e.errno) ? DataflowErrorCode.BAD_VALUE : DataflowErrorCode.WRITE_FAILED,
    `cannot write ${where}: ${message}`,
    {
      table: label,
      ...(column ? { column } : {}),
      ...(row !== undefined ? { row } : {}),
      cause: err,
    },
  );
}

/**
 * Servers that refused `LOAD DATA LOCAL INFILE` (local_infile off): their inserts go by INSERT
 * statements from then on. By pool, so one refusal is not asked again on every chunk.
 */
const localInfileRefused = new WeakSet<Pool>();
/** The server or the client does not allow LOCAL INFILE (1148, 3948, 4166 on MariaDB; 2068 client side). */
const LOCAL_INFILE_REFUSED = new Set([1148, 3948, 4166, 2068]);
/**
 * Size of the pieces the file is handed to the driver in: small enough that the server has the
 * first one while the rest of the group is still being encoded (a group of 10,000 rows is ~1.5 MB).
 */
const INFILE_PIECE_CHARS = 64 * 1024;

/**
 * Inserts a file (`rowsFile`, or `linePieces` of a chunk's lines) with one `LOAD DATA LOCAL INFILE` (no SQL text to parse
 * per row: the server reads the file format directly) in its own transaction. With LOCAL the server turns errors into warnings and skips duplicate keys, so the load is kept
 * only when it wrote every row without a warning; otherwise it is rolled back and the caller
 * inserts the rows by statements, which fail (or succeed) exactly as before. Values that need an
 * expression (hex or bit literals) never take this path. `fileRows` says, once the file was read,
 * how many rows it held (undefined: it ended early). Resolves false when the rows must go by INSERT.
 */
async function loadDataLocal(
  conn: PoolConnection,
  table: TableRef,
  names: string[],
  file: () => Iterable<Buffer>,
  fileRows: () => number | undefined,
): Promise<boolean> {
  const q = (c: string) => quoteIdent(c, 'mysql');
  const sql =
    `LOAD DATA LOCAL INFILE 'vsc-rows' INTO TABLE ${quoteTable(table, 'mysql')} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ` +
    `(${names.map(q).join(', ')})`;
  // Both statements are queued at once: the driver sends the load as the transaction's answer
  // arrives, with no turn of our event loop in between (where the next group's parsing may run).
  const begun = conn.query('START TRANSACTION');
  const loaded = conn.query({ sql, infileStreamFactory: () => Readable.from(file(), { objectMode: false }) });
  let kept = false;
  try {
    // A transaction that did not start fails the load too (the same connection): nothing is kept.
    const [[result]] = (await Promise.all([loaded, begun])) as unknown as [[ResultSetHeader]];
    const rows = fileRows();
    kept = rows !== undefined && result.affectedRows === rows && result.warningStatus === 0;
  } finally {
    await conn.query(kept ? 'COMMIT' : 'ROLLBACK');
  }
  return kept;
}

/**
 * The file of `loadDataLocal` for rows (canonical values). Fields are the very literals of the
 * INSERT path (mysqlLiteral: strings quoted with backslash escapes, numbers and big integers as
 * their exact text, so decimals and 64-bit keys keep every digit), NULL as `\N`. It is made as the
 * driver reads it, a piece at a time: the server parses and inserts the first pieces while the next
 * ones are encoded, instead of waiting for the whole text (the agent's MariaDB load was our
 * encoding, then the server's insert, one after the other: bench/README.md). `unfit` is set when a
 * row cannot go in as a field (wrong shape, a value its encoder refuses, an expression): the file
 * ends early, and the rows go by INSERT, which names the problem.
 */
export function* rowsFile(rows: unknown[][], encoders: ToLiteral[], state: { unfit: boolean }): Generator<Buffer> {
  const n = encoders.length;
  let text = '';
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== n) return void (state.unfit = true);
    let line = '';
    for (let i = 0; i < n; i++) {
      const v = row[i];
      let field: string;
      if (v === null || v === undefined) field = '\\N';
      else {
        try {
          field = encoders[i]!(v);
        } catch {
          return void (state.unfit = true);
        }
        const c = field.charCodeAt(0);
        // X'..', b'..': an expression, not a field value.
        if (c === 88 /* X */ || c === 98 /* b */) return void (state.unfit = true);
      }
      line += i ? `,${field}` : field;
    }
    text += `${line}\n`;
    if (text.length >= INFILE_PIECE_CHARS) {
      yield Buffer.from(text);
      text = '';
    }
  }
  if (text) yield Buffer.from(text);
}

/** A failed `LOAD DATA LOCAL` try: remembered when the server refuses LOCAL; thrown when the connection broke. */
function afterLoadDataFailure(err: unknown, pool: Pool, conn: PoolConnection, label: string): void {
  const errno = (err as { errno?: unknown }).errno;
  if (typeof errno === 'number' && LOCAL_INFILE_REFUSED.has(errno)) localInfileRefused.add(pool);
  else if (typeof errno !== 'number') {
    // Not a server answer (a broken connection): the statements after it would meet the same.
    conn.destroy();
    throw mysqlWriteError(err, label, 0);
  }
}

/**
 * Inserts a chunk's NDJSON lines (a table this load created: `mode: 'insert'`) with one
 * `LOAD DATA LOCAL INFILE` transcoded from their bytes (LineFields: the same file as `rowsFile`), without making them rows.
 * Resolves undefined, having written nothing, when they must go by `writeMysql` instead: a value
 * outside the fast path, a column type it does not take, text that is not UTF-8, the server
 * refusing LOCAL, or a load with a warning (a duplicate key, a value the column cannot hold).
 */
export async function insertLinesMysql(
  pool: Pool,
  settings: MysqlSettings,
  table: TableRef,
  names: string[],
  types: CanonicalType[],
  declared: ColumnSpec[] | undefined,
  lines: Buffer,
  rowCount: number,
  options: Pick<WriteOptions, 'signal'>,
): Promise<{ written: number } | undefined> {
  const label = tableLabel(table);
  if (options.signal?.aborted)
    throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
  if (localInfileRefused.has(pool)) return undefined;
  const transcoder = lineFieldsFor('mysql', types, declared, lines, rowCount);
  if (!transcoder) return undefined;
  const conn = await connectMysql(pool, settings);
  const state = { gaveUp: false, rows: 0, made: [] as Buffer[] };
  let kept = false;
  try {
    kept = await loadDataLocal(
      conn,
      table,
      names,
      () => linePieces(lines, transcoder, INFILE_PIECE_CHARS, state),
      () => (state.gaveUp || state.rows !== rowCount ? undefined : rowCount),
    );
  } catch (err) {
    afterLoadDataFailure(err, pool, conn, label);
  }
  conn.release();
  // The statement is done: the server read every piece. Freed now, not at V8's next collection.
  if (kept) for (const piece of state.made) releaseOwned(piece);
  return kept ? { written: rowCount } : undefined;
}

/**
 * Multi-row INSERTs (ON DUPLICATE KEY UPDATE for upserts) in one transaction. Note MySQL's
 * upsert fires on any unique key of the table, not only on keyColumns. An insert (a table this
 * load created, nothing to conflict with) goes by `LOAD DATA LOCAL INFILE` first where the server
 * allows it (loadDataLocal), by statements otherwise.
 */
export async function writeMysql(
  pool: Pool,
  settings: MysqlSettings,
  maxAllowedPacket: number,
  table: TableRef,
  names: string[],
  types: CanonicalType[],
  rows: unknown[][],
  options: WriteOptions,
): Promise<{ written: number }> {
  const label = tableLabel(table);
  if (rows.length === 0) return { written: 0 };
  if (options.signal?.aborted)
    throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
  const q = (n: string) => quoteIdent(n, 'mysql');
  const head = `INSERT INTO ${quoteTable(table, 'mysql')} (${names.map(q).join(', ')}) VALUES `;
  let tail = '';
  if (options.mode === 'upsert') {
    const rest = names.filter((n) => !options.keyColumns.includes(n)).map(q);
    // Every column a key column: nothing to update, but the duplicate must still not fail.
    const updates = rest.length ? rest : [q(options.keyColumns[0]!)];
    tail = ` ON DUPLICATE KEY UPDATE ${updates.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
  }
  const budget = Math.max(
    64 * 1024,
    Math.min(TARGET_STATEMENT_CHARS, Math.floor(maxAllowedPacket / 4)) - head.length - tail.length,
  );
  const encoders = types.map(mysqlLiteral);
  const n = encoders.length;
  const conn = await connectMysql(pool, settings);
  if (options.mode === 'insert' && !localInfileRefused.has(pool)) {
    const state = { unfit: false };
    try {
      const file = () => rowsFile(rows, encoders, state);
      if (await loadDataLocal(conn, table, names, file, () => (state.unfit ? undefined : rows.length))) {
        conn.release();
        return { written: rows.length };
      }
    } catch (err) {
      afterLoadDataFailure(err, pool, conn, label);
    }
  }
  let broken = false;
  let inTransaction = false;
  let first = 0;
  let r = 0;
  let i = 0;
  try {
    await conn.query('START TRANSACTION');
    inTransaction = true;
    let values = '';
    for (; r < rows.length; r++) {
      const row = rows[r];
      if (!Array.isArray(row) || row.length !== n)
        throw new BadValue(`row has ${Array.isArray(row) ? row.length : 'no'} values, expected ${n}`);
      let tuple = '(';
      for (i = 0; i < n; i++) {
        const v = row[i];
        if (i) tuple += ',';
        tuple += v === null || v === undefined ? 'NULL' : encoders[i]!(v);
      }
      tuple += ')';
      if (values && values.length + tuple.length > budget) {
        if (options.signal?.aborted)
          throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
        await conn.query(head + values + tail);
        values = '';
        first = r;
      }
      values += values ? `,${tuple}` : tuple;
    }
    if (values) await conn.query(head + values + tail);
    await conn.query('COMMIT');
    inTransaction = false;
    return { written: rows.length };
  } catch (err) {
    if (err instanceof BadValue) {
      const column = Array.isArray(rows[r]) && rows[r]!.length === n ? names[i] : undefined;
      throw new DataflowError(
        DataflowErrorCode.BAD_VALUE,
        `cannot write ${label}${column ? `.${column}` : ''} (row ${r + 1}): ${err.message}`,
        { table: label, ...(column ? { column } : {}), row: r, cause: err },
      );
    }
    if (options.signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
    const e = mysqlWriteError(err, label, first);
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
    throw e;
  } finally {
    if (inTransaction && !broken) await conn.query('ROLLBACK').catch(() => (broken = true));
    if (broken) conn.destroy();
    else conn.release();
  }
}
