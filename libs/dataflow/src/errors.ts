/**
 * The one error type this package throws. Every driver or server error that crosses the
 * package boundary is normalised into it, so callers (agent operations, cloud activities)
 * map a closed set of codes to failures instead of parsing driver messages.
 */
export const DataflowErrorCode = {
  /** A column type has no representation in the target dialect (names table and column). */
  UNMAPPABLE_TYPE: 'UNMAPPABLE_TYPE',
  /** A value cannot be read or written as its column's type (names table and column). */
  BAD_VALUE: 'BAD_VALUE',
  UNSUPPORTED_DIALECT: 'UNSUPPORTED_DIALECT',
  /** A table or column that the call names does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** The server refused a write (constraint, out of range, too long, ...). */
  WRITE_FAILED: 'WRITE_FAILED',
  READ_FAILED: 'READ_FAILED',
  /** CREATE TABLE / CREATE TYPE failed or conflicts with what exists. */
  DDL_FAILED: 'DDL_FAILED',
  /** An identifier that cannot be quoted safely (control characters, empty, too long). */
  BAD_IDENTIFIER: 'BAD_IDENTIFIER',
  /** Options that contradict each other or the table (unknown key column, wrong keyset width...). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** A chunk that is not gzip'd NDJSON of row arrays. */
  BAD_CHUNK: 'BAD_CHUNK',
  /** A chunk whose decompressed size passes the cap (zip bomb). */
  CHUNK_TOO_LARGE: 'CHUNK_TOO_LARGE',
  /** The database could not be reached or dropped the connection; retrying may help. */
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  CANCELLED: 'CANCELLED',
  /** The data policy in force (the site's file on an agent) does not allow this read or write. */
  POLICY_REFUSED: 'POLICY_REFUSED',
  /** A buffer object whose manifest cannot be loaded (no usable schema, key columns it lacks). */
  BAD_OBJECT: 'BAD_OBJECT',
  /** An HTTP step named a URL its side may not call (egress guard in the cloud, the site's APIs on an agent). */
  HTTP_REFUSED: 'HTTP_REFUSED',
  /** The API answered a final error (4xx, or an answer that is not what the step expects). */
  HTTP_FAILED: 'HTTP_FAILED',
  /** The API could not be reached, timed out, or kept answering 429/5xx; a later attempt may succeed. */
  HTTP_UNAVAILABLE: 'HTTP_UNAVAILABLE',
  /** A JSONata expression of the step does not compile or fails on the data. */
  BAD_EXPRESSION: 'BAD_EXPRESSION',
} as const;
export type DataflowErrorCode = (typeof DataflowErrorCode)[keyof typeof DataflowErrorCode];

/** Codes where a retry of the same call can succeed; everything else needs a change first. */
const RETRYABLE = new Set<DataflowErrorCode>([DataflowErrorCode.CONNECTION_FAILED, DataflowErrorCode.HTTP_UNAVAILABLE]);

export interface DataflowErrorDetails {
  table?: string;
  column?: string;
  /** 0-based index of the offending row in the batch, when known. */
  row?: number;
  cause?: unknown;
}

export class DataflowError extends Error {
  override name = 'DataflowError';
  readonly code: DataflowErrorCode;
  readonly table?: string;
  readonly column?: string;
  readonly row?: number;
  readonly retryable: boolean;

  constructor(code: DataflowErrorCode, message: string, details: DataflowErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.retryable = RETRYABLE.has(code);
    if (details.table !== undefined) this.table = details.table;
    if (details.column !== undefined) this.column = details.column;
    if (details.row !== undefined) this.row = details.row;
  }
}

export function isDataflowError(err: unknown): err is DataflowError {
  return err instanceof DataflowError;
}

/**
 * The one driver-error table: codes meaning the connection (not the statement) failed, so a retry
 * may succeed. Every path to a site or cloud database (reads, writes, queries, catalog, privilege
 * checks; PostgreSQL, MySQL/MariaDB and SQL Server drivers) classifies errors with it.
 */
const CONNECTION_CODES = new Set([
  // Node sockets and DNS (every driver)
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  // PostgreSQL: admin shutdown, crash, cannot connect now, connection exceptions, bad login, no such database
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '28P01',
  '28000',
  '3D000',
  // MySQL/MariaDB: lost connection, too many connections, shutting down, bad login, no such database
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  // SQL Server (tedious through mssql): socket, closed, login, timeout, instance lookup, no connection
  'ESOCKET',
  'ECONNCLOSED',
  'ELOGIN',
  'ETIMEOUT',
  'EINSTLOOKUP',
  'ENOCONN',
]);

/** True when the driver error means the connection, not the statement, failed. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string')
    return /Connection terminated|connection is closed|Client has encountered a connection error/i.test(
      String((err as Error)?.message ?? ''),
    );
  return CONNECTION_CODES.has(code);
}

/** Wraps anything thrown by a driver, keeping DataflowErrors as they are. */
export function normaliseError(
  err: unknown,
  fallback: DataflowErrorCode,
  context: string,
  details: DataflowErrorDetails = {},
): DataflowError {
  if (err instanceof DataflowError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isConnectionError(err))
    return new DataflowError(DataflowErrorCode.CONNECTION_FAILED, `${context}: ${message}`, { ...details, cause: err });
  return new DataflowError(fallback, `${context}: ${message}`, { ...details, cause: err });
}
