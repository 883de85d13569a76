import { createHash } from 'node:crypto';
import { decodeChunk } from '../chunk-codec';
import { DataflowError, DataflowErrorCode } from '../errors';
import { parseObjectSchema } from '../pipeline/object-schema';
import { sendWithRetry, statusError, type HttpSend, type RetryOptions } from './http-exchange';
import { compileExpression } from './http-expression';
import { rowsToRecords } from './http-records';

/** A write step's request, its URL already resolved and allowed by the side that runs it. */
export interface HttpWriteRequest {
  method: 'POST' | 'PUT' | 'PATCH';
  url: URL;
  /** Records per request: 1 sends each record, more send an array. */
  batchSize: number;
  /** JSONata building the body from the record (or the batch); default the record (or the batch). */
  body?: string;
  /** A record field sent as Idempotency-Key (a batch sends a hash of its records' keys). */
  idempotencyKey?: string;
}

/** What a write reports after each request; a retried attempt starts after the records already sent. */
export interface HttpWritePosition {
  recordsDone: number;
  requests: number;
  retried: number;
}

export interface HttpWriteResult {
  requests: number;
  records: number;
  retried: number;
}

/** A committed buffer object, read chunk by chunk (the cloud's store, or the gateway for an agent). */
export interface HttpWriteSource {
  objectId: string;
  manifest(): Promise<{ schema: unknown; chunkCount: number; rowCount: number }>;
  chunk(index: number): Promise<Buffer>;
}

function keyOf(record: Record<string, unknown>, field: string, index: number): string {
  const value = record[field];
  if (value === null || value === undefined || (typeof value === 'object' && value !== null))
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      `record ${index + 1} has no ${value === null || value === undefined ? '' : 'scalar '}value in "${field}", the step's idempotencyKey field`,
    );
  return String(value);
}

/**
 * Sends a dataset to an API: chunk by chunk, one request per record or per batch, each answered
 * 429/5xx retried (Retry-After honoured) before the next, progress reported after each success so
 * a retried attempt never re-sends what an API already accepted. With `idempotencyKey`, a request
 * whose answer was lost is sent again with the same key, and the API applies it once.
 */
export async function writeHttp(
  request: HttpWriteRequest,
  deps: {
    send: HttpSend;
    retry: RetryOptions;
    source: HttpWriteSource;
    resume?: Partial<HttpWritePosition>;
    signal?: AbortSignal;
    headers?: Record<string, string>;
  },
  onRequest: (position: HttpWritePosition) => void,
): Promise<HttpWriteResult> {
  const bodyOf = request.body ? compileExpression(request.body, 'body') : undefined;
  const manifest = await deps.source.manifest();
  const columns = parseObjectSchema(manifest.schema, deps.source.objectId).columns.map((c) => c.name);
  const resumed = typeof deps.resume?.recordsDone === 'number' ? deps.resume : undefined;
  const done: HttpWritePosition = {
    recordsDone: resumed?.recordsDone ?? 0,
    requests: resumed?.requests ?? 0,
    retried: resumed?.retried ?? 0,
  };
  let pending: Record<string, unknown>[] = [];
  let pendingFrom = done.recordsDone;

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = request.batchSize === 1 ? pending[0]! : pending;
    const payload = bodyOf ? await bodyOf.evaluate(batch) : batch;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...deps.headers,
    };
    if (request.idempotencyKey) {
      const keys = pending.map((r, i) => keyOf(r, request.idempotencyKey!, pendingFrom + i));
      headers['idempotency-key'] =
        keys.length === 1 ? keys[0]! : createHash('sha256').update(keys.join('\n')).digest('hex');
    }
    const response = await sendWithRetry(
      deps.send,
      { method: request.method, url: request.url, headers, body: Buffer.from(JSON.stringify(payload ?? null)) },
      deps.retry,
      deps.signal,
      () => void done.retried++,
    );
    if (response.status < 200 || response.status >= 300)
      throw statusError(
        response,
        `record ${pendingFrom + 1}${pending.length > 1 ? `-${pendingFrom + pending.length}` : ''}`,
      );
    done.requests++;
    done.recordsDone += pending.length;
    pendingFrom = done.recordsDone;
    pending = [];
    onRequest({ ...done });
  };

  let index = 0;
  for (let c = 0; c < manifest.chunkCount; c++) {
    const rows = await decodeChunk(await deps.source.chunk(c));
    if (index + rows.length <= done.recordsDone) {
      index += rows.length;
      continue;
    }
    const records = rowsToRecords(rows, columns);
    for (const record of records) {
      if (index++ < done.recordsDone) continue;
      if (deps.signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled');
      pending.push(record);
      if (pending.length >= request.batchSize) await flush();
    }
  }
  await flush();
  return { requests: done.requests, records: done.recordsDone, retried: done.retried };
}
