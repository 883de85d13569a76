import { once } from 'node:events';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataflowError, DataflowErrorCode, isConnectionError, normaliseError } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import { type CanonicalType, type ColumnSpec } from '../types/canonical-type';
import { tableLabel, type TableRef } from '@vansales/protocol';
import type { WriteOptions } from '../types/data-connection';
import { BadValue } from '../values/bad-value';
import { releaseOwned } from '../chunk-codec';
import { lineFieldsFor, linePieces } from '../values/line-fields';
import { BINARY_BASE_TYPES, type BinaryEncoder, BinaryWriter, binaryEncoder, COPY_BINARY_HEADER } from './copy-binary';
import { copyEncoder, type ToText } from './copy-text';
import { connectPg, runOne, type PgSettings } from './pool';

/** COPY data is sent in pieces of about this many characters (text) or bytes (binary); the stream's buffer holds a few. */
const CHUNK_CHARS = 256 * 1024;
const STREAM_BUFFER_BYTES = 1024 * 1024;

interface PgErrorFields {
  code?: string;
  where?: string;
  detail?: string;
  column?: string;
  message: string;
}

/** The column and row of a COPY error from its context ('COPY t, line 3, column c: "..."'). */
function copyErrorLocation(err: PgErrorFields): { column?: string; row?: number } {
  const m = /COPY [^,]+, line (\d+)(?:, column (.*?))?(?:: "|$)/.exec(err.where ?? '');
  if (!m) return err.column ? { column: err.column } : {};
  return { row: Number(m[1]) - 1, ...(m[2] ? { column: m[2] } : err.column ? { column: err.column } : {}) };
}

/** Class 22 (data exception) and 23502 (NOT NULL) are about a value; the rest about the write. */
export function pgWriteError(err: unknown, label: string, rowOffset: number): DataflowError {
  if (err instanceof DataflowError) return err;
  const e = err as PgErrorFields;
  // A socket's code (ECONNRESET when the server dies mid-COPY) is a string too, but no SQLSTATE: the
  // connection failed, so the step retries (it ended a sync's run as a failed write before).
  if (typeof e?.code !== 'string' || /^(08|57)/.test(e.code) || isConnectionError(err))
    return normaliseError(err, DataflowErrorCode.WRITE_FAILED, `cannot write ${label}`, { table: label });
  const loc = copyErrorLocation(e);
  const valueError = e.code.startsWith('22') || e.code === '23502';
  const where = `${label}${loc.column ? `.${loc.column}` : ''}${loc.row !== undefined ? ` (row ${rowOffset + loc.row + 1})` : ''}`;
  return new DataflowError(
    valueError ? DataflowErrorCode.BAD_VALUE : DataflowErrorCode.WRITE_FAILED,
    `cannot write ${where}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`,
    {
      table: label,
      ...(loc.column ? { column: loc.column } : {}),
      ...(loc.row !== undefined ? { row: rowOffset + loc.row } : {}),
      cause: err,
    },
  );
}

/** Where an encoder stopped, so a BadValue can name the row and column. */
interface Cursor {
  row: number;
  column: number;
}

/**
 * Runs one COPY ... FROM STDIN, feeding it what `produce` pushes; a push waits for the socket
 * when the stream's buffer is full, so memory stays bounded whatever the batch size.
 */
async function streamCopy(
  client: PoolClient,
  copySql: string,
  names: string[],
  rows: unknown[][],
  label: string,
  produce: (push: (chunk: string | Buffer) => Promise<void>, at: Cursor) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const stream = client.query(copyFrom(copySql, { highWaterMark: STREAM_BUFFER_BYTES }));
  const finished = once(stream, 'finish');
  finished.catch(() => undefined);
  const at: Cursor = { row: 0, column: 0 };
  const push = async (chunk: string | Buffer) => {
    if (signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
    if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), finished]);
  };
  try {
    await produce(push, at);
    stream.end();
    await finished;
  } catch (err) {
    if (!stream.destroyed) {
      // CopyFail: the server rolls the COPY back; wait for it so the connection is idle again.
      const settled = once(stream, 'close').catch(() => undefined);
      stream.destroy();
      await settled;
    }
    if (err instanceof BadValue) {
      const row = rows[at.row];
      const column = Array.isArray(row) && row.length === names.length ? names[at.column] : undefined;
      throw new DataflowError(
        DataflowErrorCode.BAD_VALUE,
        `cannot write ${label}${column ? `.${column}` : ''} (row ${at.row + 1}): ${err.message}`,
        {
          table: label,
          ...(column ? { column } : {}),
          row: at.row,
          cause: err,
        },
      );
    }
    throw err;
  }
}

function checkRow(row: unknown, n: number): asserts row is unknown[] {
  if (!Array.isArray(row) || row.length !== n)
    throw new BadValue(`row has ${Array.isArray(row) ? row.length : 'no'} values, expected ${n}`);
}

/** COPY text format: CHUNK_CHARS of tab-separated, escaped fields at a time. */
function textRows(encoders: ToText[], rows: unknown[][]) {
  return async (push: (chunk: string) => Promise<void>, at: Cursor) => {
    const n = encoders.length;
    let out = '';
    for (let r = 0; r < rows.length; r++) {
      at.row = r;
      const row = rows[r];
      checkRow(row, n);
      for (let i = 0; i < n; i++) {
        at.column = i;
        const v = row[i];
        out += v === null || v === undefined ? '\\N' : encoders[i]!(v);
        out += i === n - 1 ? '\n' : '\t';
      }
      if (out.length >= CHUNK_CHARS) {
        await push(out);
        out = '';
      }
    }
    if (out) await push(out);
  };
}

/** COPY binary format: header, per row a field count and length-prefixed fields, trailer. */
function binaryRows(encoders: BinaryEncoder[], rows: unknown[][]) {
  return async (push: (chunk: Buffer) => Promise<void>, at: Cursor) => {
    const n = encoders.length;
    const w = new BinaryWriter(CHUNK_CHARS + 64 * 1024);
    await push(COPY_BINARY_HEADER);
    for (let r = 0; r < rows.length; r++) {
      at.row = r;
      const row = rows[r];
      checkRow(row, n);
      w.int16(n);
      for (let i = 0; i < n; i++) {
        at.column = i;
        const v = row[i];
        if (v === null || v === undefined) w.int32(-1);
        else encoders[i]!(w, v);
      }
      if (w.pos >= CHUNK_CHARS) await push(w.take());
    }
    w.ensure(2);
    w.buf.writeInt16BE(-1, w.pos);
    w.pos += 2;
    await push(w.take());
  };
}

/**
 * The COPY for these columns: binary when every target column's base type has a binary encoder
 * (the common case: numbers, text, dates, json, uuid, enums), text otherwise.
 */
function copyPlan(
  target: string,
  cols: string,
  types: CanonicalType[],
  bases: string[],
  names: string[],
  rows: unknown[][],
) {
  if (bases.every((b) => BINARY_BASE_TYPES.has(b))) {
    return {
      sql: `COPY ${target} (${cols}) FROM STDIN (FORMAT binary)`,
      produce: binaryRows(bases.map(binaryEncoder), rows) as Parameters<typeof streamCopy>[5],
    };
  }
  return {
    sql: `COPY ${target} (${cols}) FROM STDIN`,
    produce: textRows(types.map(copyEncoder), rows) as Parameters<typeof streamCopy>[5],
  };
}

/** Aborting drops the connection: the server then aborts the COPY and rolls back. */
function dropOnAbort(client: PoolClient, signal: AbortSignal | undefined) {
  let dropped = false;
  const onAbort = () => {
    dropped = true;
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return { dropped: () => dropped, dispose: () => signal?.removeEventListener('abort', onAbort) };
}

/**
 * insert: COPY straight into the table (one statement, so one transaction).
 * upsert: COPY into a temporary table, then INSERT .. ON CONFLICT (key) DO UPDATE; when a batch
 * repeats a key the last row wins.
 */
export async function writePostgres(
  pool: Pool,
  settings: PgSettings,
  table: TableRef,
  names: string[],
  types: CanonicalType[],
  bases: string[],
  rows: unknown[][],
  options: WriteOptions,
): Promise<{ written: number }> {
  const label = tableLabel(table);
  if (rows.length === 0) return { written: 0 };
  if (options.signal?.aborted)
    throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
  const q = (n: string) => quoteIdent(n, 'postgres');
  const cols = names.map(q).join(', ');
  const client = await connectPg(pool, settings);
  let broken = false;
  const abort = dropOnAbort(client, options.signal);
  try {
    if (options.mode === 'insert') {
      const plan = copyPlan(quoteTable(table, 'postgres'), cols, types, bases, names, rows);
      await streamCopy(client, plan.sql, names, rows, label, plan.produce, options.signal);
      return { written: rows.length };
    }
    const keys = options.keyColumns.map(q);
    const stage = q('vsc_upsert_stage');
    const rest = names.filter((n) => !options.keyColumns.includes(n)).map(q);
    await client.query('BEGIN');
    try {
      // Same column types as the target (domains and enums included), no constraints.
      await runOne(
        client,
        `CREATE TEMPORARY TABLE ${stage} ON COMMIT DROP AS SELECT ${cols} FROM ${quoteTable(table, 'postgres')} WITH NO DATA`,
      );
      const plan = copyPlan(stage, cols, types, bases, names, rows);
      await streamCopy(client, plan.sql, names, rows, label, plan.produce, options.signal);
      const action = rest.length ? `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'DO NOTHING';
      await runOne(
        client,
        `INSERT INTO ${quoteTable(table, 'postgres')} (${cols}) SELECT DISTINCT ON (${keys.join(', ')}) ${cols} FROM ${stage} ORDER BY ${keys.join(', ')}, ctid DESC ON CONFLICT (${keys.join(', ')}) ${action}`,
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    }
    return { written: rows.length };
  } catch (err) {
    if (options.signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
    const e = pgWriteError(err, label, 0);
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
    throw e;
  } finally {
    abort.dispose();
    client.release(broken || abort.dropped() ? new Error('discarded') : undefined);
  }
}

/** The fast path gave up on a piece of lines: the COPY is abandoned, nothing written. */
class GaveUp extends Error {}

/**
 * Inserts a chunk's NDJSON lines (a table this load created: `mode: 'insert'`) with one COPY in text
 * format transcoded from their bytes (LineFields: the same text as copyEncoder's rows), without
 * making them rows. Resolves undefined, having written nothing, when they must go by `writePostgres`:
 * a value outside the fast path, a column type it does not take, text that is not UTF-8, or a COPY
 * the server refused (a duplicate key, a value the column cannot hold: the row path meets the same
 * and names it). A broken connection or a cancelled load is thrown as by the row path.
 */
export async function insertLinesPostgres(
  pool: Pool,
  settings: PgSettings,
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
  const fields = lineFieldsFor('postgres', types, declared, lines, rowCount);
  if (!fields) return undefined;
  const cols = names.map((n) => quoteIdent(n, 'postgres')).join(', ');
  const client = await connectPg(pool, settings);
  let broken = false;
  const abort = dropOnAbort(client, options.signal);
  try {
    const state = { gaveUp: false, rows: 0, made: [] as Buffer[] };
    const produce = async (push: (chunk: Buffer) => Promise<void>) => {
      for (const piece of linePieces(lines, fields, CHUNK_CHARS, state)) await push(piece);
      if (state.gaveUp || state.rows !== rowCount) throw new GaveUp();
    };
    await streamCopy(
      client,
      `COPY ${quoteTable(table, 'postgres')} (${cols}) FROM STDIN`,
      names,
      [],
      label,
      produce as Parameters<typeof streamCopy>[5],
      options.signal,
    );
    // The COPY is done (the server confirmed it): every piece was sent. Freed now, not at V8's next collection.
    for (const piece of state.made) releaseOwned(piece);
    return { written: rowCount };
  } catch (err) {
    if (options.signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
    if (err instanceof GaveUp) return undefined;
    const e = pgWriteError(err, label, 0);
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) {
      broken = true;
      throw e;
    }
    return undefined;
  } finally {
    abort.dispose();
    client.release(broken || abort.dropped() ? new Error('discarded') : undefined);
  }
}
