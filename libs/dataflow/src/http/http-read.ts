import { encodeChunk } from '../chunk-codec';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { ColumnSpec } from '../types/canonical-type';
import { jsonBody, sendWithRetry, statusError, type HttpSend, type RetryOptions } from './http-exchange';
import { compileExpression } from './http-expression';
import { asRecords, inferColumns, recordsToRows } from './http-records';

export type HttpPagination =
  | { kind: 'cursor'; next: string; param: string }
  | { kind: 'link-header' }
  | { kind: 'page'; param: string; start?: number };

/** A read step's request, its URL already resolved and allowed by the side that runs it. */
export interface HttpReadRequest {
  method: 'GET' | 'POST';
  url: URL;
  query?: Record<string, string>;
  /** JSONata path to the records in each answer (default: the answer itself). */
  records?: string;
  pagination?: HttpPagination;
  maxPages: number;
  /** Records per buffer chunk (a page larger than this is split). */
  chunkRecords?: number;
}

/** What a read reports after each page; a retried attempt resumes from it instead of reading again. */
export interface HttpReadPosition {
  pagesDone: number;
  chunksDone: number;
  rowsDone: number;
  /**
   * The next page's path and query, without the origin (absent: no more pages). Progress becomes
   * heartbeat details in workflow history; a site API's host never leaves the site.
   */
  next?: string;
  columns?: ColumnSpec[];
}

export interface HttpReadSink {
  begin?(): Promise<void>;
  put(index: number, bytes: Buffer, rows: number): Promise<void>;
  commit(manifest: {
    schema: { columns: ColumnSpec[]; keyColumns: string[]; source: string };
    chunkCount: number;
    rowCount: number;
    meta: Record<string, unknown>;
  }): Promise<void>;
}

export interface HttpReadResult {
  rowCount: number;
  chunkCount: number;
  pages: number;
  columns: string[];
  /** True when maxPages stopped the read before the API said there were no more pages. */
  truncated: boolean;
}

/** The column of a dataset read from an API that returned no records (a dataset has at least one). */
const EMPTY_COLUMNS: ColumnSpec[] = [
  { name: 'record', type: { kind: 'json', binary: true }, nullable: true, nativeType: 'json' },
];

function firstUrl(request: HttpReadRequest): URL {
  const url = new URL(request.url.href);
  for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
  if (request.pagination?.kind === 'page')
    url.searchParams.set(request.pagination.param, String(request.pagination.start ?? 1));
  return url;
}

/** `<https://api/x?page=2>; rel="next", <…>; rel="last"` -> the next URL, resolved against the answer's. */
export function nextLink(header: string | string[] | undefined, base: URL): URL | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return undefined;
  for (const part of text.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?/i.test(m[2]!)) {
      try {
        return new URL(m[1]!, base);
      } catch {
        throw new DataflowError(DataflowErrorCode.HTTP_FAILED, `the Link header's next URL is not a URL`);
      }
    }
  }
  return undefined;
}

/**
 * Reads pages of an API into one buffer object, one page at a time: records picked by a JSONata
 * path, written as chunks, progress reported after each page, so a retried attempt goes on from
 * the next page. Every URL (the first, a cursor's, a Link header's) goes through `send`, which
 * is where each side refuses what it may not call.
 */
export async function readHttp(
  request: HttpReadRequest,
  deps: {
    send: HttpSend;
    retry: RetryOptions;
    sink: HttpReadSink;
    resume?: Partial<HttpReadPosition>;
    signal?: AbortSignal;
    headers?: Record<string, string>;
    onRetry?: (status: number | undefined, waitMs: number) => void;
  },
  onPage: (position: HttpReadPosition) => void,
): Promise<HttpReadResult> {
  const chunkRecords = request.chunkRecords ?? 10_000;
  const recordsPath = request.records ? compileExpression(request.records, 'records') : undefined;
  const cursor =
    request.pagination?.kind === 'cursor' ? compileExpression(request.pagination.next, 'pagination.next') : undefined;
  const resumed = deps.resume && typeof deps.resume.pagesDone === 'number' ? deps.resume : undefined;
  let pages = resumed?.pagesDone ?? 0;
  let chunks = resumed?.chunksDone ?? 0;
  let rows = resumed?.rowsDone ?? 0;
  let columns = resumed?.columns;
  let url: URL | undefined = resumed
    ? resumed.next
      ? new URL(resumed.next.replace(/^\/*/, '/'), request.url.origin)
      : undefined
    : firstUrl(request);
  await deps.sink.begin?.();
  while (url && pages < request.maxPages) {
    if (deps.signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, 'cancelled');
    const what = `page ${pages + 1}`;
    const response = await sendWithRetry(
      deps.send,
      { method: request.method, url, headers: { accept: 'application/json', ...deps.headers } },
      deps.retry,
      deps.signal,
      deps.onRetry,
    );
    if (response.status < 200 || response.status >= 300) throw statusError(response, what);
    const body = jsonBody(response, what);
    const records = asRecords(recordsPath ? await recordsPath.evaluate(body) : body, what);
    if (records.length > 0) {
      columns ??= inferColumns(records);
      for (let i = 0; i < records.length; i += chunkRecords) {
        const part = recordsToRows(records.slice(i, i + chunkRecords), columns, rows);
        await deps.sink.put(chunks++, await encodeChunk(part), part.length);
        rows += part.length;
      }
    }
    pages++;
    url = await nextPage(request, response, body, records.length, url, cursor);
    onPage({
      pagesDone: pages,
      chunksDone: chunks,
      rowsDone: rows,
      next: url && `${url.pathname}${url.search}`,
      columns,
    });
  }
  const schema = {
    columns: columns ?? EMPTY_COLUMNS,
    keyColumns: [],
    source: `${request.url.origin}${request.url.pathname}`,
  };
  const truncated = url !== undefined;
  await deps.sink.commit({ schema, chunkCount: chunks, rowCount: rows, meta: { pages, truncated } });
  return { rowCount: rows, chunkCount: chunks, pages, columns: (columns ?? []).map((c) => c.name), truncated };
}

async function nextPage(
  request: HttpReadRequest,
  response: { headers: Record<string, string | string[] | undefined>; url: URL },
  body: unknown,
  records: number,
  current: URL,
  cursor: ReturnType<typeof compileExpression> | undefined,
): Promise<URL | undefined> {
  const pagination = request.pagination;
  if (!pagination) return undefined;
  switch (pagination.kind) {
    case 'link-header':
      return nextLink(response.headers.link, response.url);
    case 'page': {
      if (records === 0) return undefined;
      const next = new URL(current.href);
      const page = Number(current.searchParams.get(pagination.param) ?? pagination.start ?? 1);
      next.searchParams.set(pagination.param, String(page + 1));
      return next;
    }
    case 'cursor': {
      const value = await cursor!.evaluate(body);
      if (value === undefined || value === null || value === '' || value === false) return undefined;
      if (typeof value !== 'string' && typeof value !== 'number')
        throw new DataflowError(
          DataflowErrorCode.BAD_EXPRESSION,
          `pagination.next gave a ${typeof value}, not a cursor string or number`,
        );
      const next = new URL(current.href);
      next.searchParams.set(pagination.param, String(value));
      return next;
    }
  }
}
