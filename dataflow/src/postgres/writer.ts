import { once } from 'node:events';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import { quoteIdent, quoteTable } from '../identifiers';
import { tableLabel, type CanonicalType, type TableRef } from '../types/canonical-type';
import type { WriteOptions } from '../types/data-connection';
import { BadValue } from '../values/bad-value';
import { copyEncoder, type ToText } from './copy-text';
import { connectPg, type PgSettings } from './pool';

/** COPY data is sent in pieces of about this many characters; the stream's buffer holds a few. */
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
function pgWriteError(err: unknown, label: string, rowOffset: number): DataflowError {
  if (err instanceof DataflowError) return err;
  const e = err as PgErrorFields;
  if (typeof e?.code !== 'string' || /^(08|57)/.test(e.code)) return normaliseError(err, DataflowErrorCode.WRITE_FAILED, `cannot write ${label}`, { table: label });
  const loc = copyErrorLocation(e);
  const valueError = e.code.startsWith('22') || e.code === '23502';
  const where = `${label}${loc.column ? `.${loc.column}` : ''}${loc.row !== undefined ? ` (row ${rowOffset + loc.row + 1})` : ''}`;
  return new DataflowError(valueError ? DataflowErrorCode.BAD_VALUE : DataflowErrorCode.WRITE_FAILED, `cannot write ${where}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`, {
    table: label,
    ...(loc.column ? { column: loc.column } : {}),
    ...(loc.row !== undefined ? { row: rowOffset + loc.row } : {}),
    cause: err,
  });
}

/**
 * Streams rows as COPY text into `copySql`, CHUNK_CHARS at a time, waiting for the socket when
 * the stream's buffer is full so memory stays bounded whatever the batch size.
 */
async function copyRows(client: PoolClient, copySql: string, encoders: ToText[], names: string[], rows: unknown[][], label: string, signal?: AbortSignal): Promise<void> {
  const stream = client.query(copyFrom(copySql, { highWaterMark: STREAM_BUFFER_BYTES }));
  const finished = once(stream, 'finish');
  finished.catch(() => undefined);
  const n = encoders.length;
  let out = '';
  let r = 0;
  let i = 0;
  try {
    for (; r < rows.length; r++) {
      const row = rows[r];
      if (!Array.isArray(row) || row.length !== n) throw new BadValue(`row has ${Array.isArray(row) ? row.length : 'no'} values, expected ${n}`);
      for (i = 0; i < n; i++) {
        const v = row[i];
        out += v === null || v === undefined ? '\\N' : encoders[i]!(v);
        out += i === n - 1 ? '\n' : '\t';
      }
      if (out.length >= CHUNK_CHARS) {
        if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
        const ok = stream.write(out);
        out = '';
        if (!ok) await Promise.race([once(stream, 'drain'), finished]);
      }
    }
    if (out) stream.write(out);
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
      const column = Array.isArray(rows[r]) && rows[r]!.length === n ? names[i] : undefined;
      throw new DataflowError(DataflowErrorCode.BAD_VALUE, `cannot write ${label}${column ? `.${column}` : ''} (row ${r + 1}): ${err.message}`, { table: label, ...(column ? { column } : {}), row: r, cause: err });
    }
    throw err;
  }
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
  rows: unknown[][],
  options: WriteOptions,
): Promise<{ written: number }> {
  const label = tableLabel(table);
  if (rows.length === 0) return { written: 0 };
  if (options.signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
  const q = (n: string) => quoteIdent(n, 'postgres');
  const cols = names.map(q).join(', ');
  const encoders = types.map(copyEncoder);
  const client = await connectPg(pool, settings);
  let broken = false;
  const onAbort = () => {
    // Dropping the connection makes the server abort the COPY and roll back.
    broken = true;
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.mode === 'insert') {
      await copyRows(client, `COPY ${quoteTable(table, 'postgres')} (${cols}) FROM STDIN`, encoders, names, rows, label, options.signal);
      return { written: rows.length };
    }
    const keys = options.keyColumns.map(q);
    const stage = q('vsc_upsert_stage');
    const rest = names.filter((n) => !options.keyColumns.includes(n)).map(q);
    await client.query('BEGIN');
    try {
      // Same column types as the target (domains and enums included), no constraints.
      await client.query(`CREATE TEMPORARY TABLE ${stage} ON COMMIT DROP AS SELECT ${cols} FROM ${quoteTable(table, 'postgres')} WITH NO DATA`);
      await copyRows(client, `COPY ${stage} (${cols}) FROM STDIN`, encoders, names, rows, label, options.signal);
      const action = rest.length ? `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}` : 'DO NOTHING';
      await client.query(
        `INSERT INTO ${quoteTable(table, 'postgres')} (${cols}) SELECT DISTINCT ON (${keys.join(', ')}) ${cols} FROM ${stage} ORDER BY ${keys.join(', ')}, ctid DESC ON CONFLICT (${keys.join(', ')}) ${action}`,
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    }
    return { written: rows.length };
  } catch (err) {
    if (options.signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'the write was cancelled', { table: label });
    const e = pgWriteError(err, label, 0);
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
    throw e;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    client.release(broken ? new Error('discarded') : undefined);
  }
}
