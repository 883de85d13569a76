import { tableLabel, tableLabelOf, type Dialect, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { ColumnSpec } from '../types/canonical-type';
import type { DataConnection, ReadSource } from '../types/data-connection';
import { chunkedExtract, type ChunkSink, type ExtractPosition } from './chunked-extract';
import type { DataPolicy } from './data-policy';
import { planTableRead } from './table-read-plan';
import { assertPositionsUnprotected, resolveReadable } from './read-policy';

/** The schema an extract stores in the object's manifest; loads read it back. */
export interface ExtractedSchema {
  columns: ColumnSpec[];
  keyColumns: string[];
  dialect: string;
  source: string;
}

/** Where an extract's chunks go (the buffer through the gateway, or the store itself) and its manifest last. */
export interface ObjectSink extends ChunkSink {
  /** Called once the read is planned, before the first chunk (a store that needs the object created first). */
  begin?(): Promise<void>;
  /**
   * Called after `begin`, before the first chunk, with the schema the commit will repeat: a load
   * that follows the object prepares its destination from it while the chunks are still coming.
   */
  publishSchema?(schema: ExtractedSchema): Promise<void>;
  commit(manifest: {
    schema: ExtractedSchema;
    chunkCount: number;
    rowCount: number;
    meta: Record<string, unknown>;
  }): Promise<void>;
}

export interface ExtractResult {
  rowCount: number;
  chunkCount: number;
  keyColumns: string[];
  /** The highest cursor value extracted; the next incremental run starts after it. */
  cursor?: { column: string; max: unknown };
  /** The columns the object holds (for the site's audit record; a table extract only). */
  columns?: string[];
  /** Order values of the last row extracted (a table extract): where a following read starts. */
  last?: unknown[];
}

interface ExtractCommon {
  /** The configured name of the database (policy rules and messages name it). */
  database: string;
  chunkRows: number;
  policy: DataPolicy;
  signal?: AbortSignal;
}

export interface ExtractTableRequest extends ExtractCommon {
  table: TableRef;
  /** Default: every column the policy lets out. */
  columns?: string[];
  /** Keyset order, and the key a load upserts by. Default: the primary key. */
  keyColumns?: string[];
  incremental?: { column: string; after?: unknown };
  /** Where a retry of the same object resumes. */
  resume?: Partial<ExtractPosition>;
  /** At most this many rows (the first ones past the start in key order): one bounded batch. */
  maxRows?: number;
}

export interface ExtractQueryRequest extends ExtractCommon {
  sql: string;
  keyColumns?: string[];
  /** The caller's read-only check of the text (the agent's SQL guard); throws to refuse. */
  checkSql(sql: string, dialect: Dialect): Promise<void>;
}

/**
 * Reads a table into a buffer object in numbered chunks, keyset-ordered so a retry resumes after
 * the last stored chunk. Columns the policy drops are never read; masked and hashed ones are
 * rewritten before a chunk leaves and become text in the object's schema. The policy is checked
 * against the final read plan: a key or cursor column it protects refuses the extract.
 */
export async function extractTable(
  conn: DataConnection,
  request: ExtractTableRequest,
  sink: ObjectSink,
  onChunk: (position: ExtractPosition) => void,
): Promise<ExtractResult> {
  const { database, policy } = request;
  const sourceName = tableLabel(request.table);
  // Rules are matched against the table the server will read (schema, case, a view's tables),
  // and the read names it exactly so, never the spelling the cloud sent.
  const resolved = await resolveReadable(conn, policy, database, request.table, request.signal);
  const table = resolved.table;
  const described = await conn.describeTable(table);
  if (!described)
    throw new DataflowError(
      DataflowErrorCode.NOT_FOUND,
      `table ${tableLabelOf(database, request.table)} does not exist`,
      {
        table: sourceName,
      },
    );
  const wanted = (request.columns ?? described.columns.map((c) => c.name)).filter(
    (name) => policy.columnRule(database, table, name)?.action !== 'drop',
  );
  const resume = request.resume;
  const plan = planTableRead({
    table,
    described,
    columns: wanted,
    keyColumns: request.keyColumns,
    incremental: request.incremental,
    after: resume?.after,
  });
  // A resumed bounded batch reads only what the batch still lacks.
  const limit = request.maxRows !== undefined ? request.maxRows - (resume?.rowsDone ?? 0) : undefined;
  if (limit !== undefined && limit < 1)
    throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `maxRows ${request.maxRows} leaves nothing to read`);
  // The plan adds keys and cursor to the read, and their values leave the site in heartbeats
  // (`after`), results and manifests (`cursor.max`) before any mask: a protected one refuses.
  assertPositionsUnprotected(policy, database, table, plan.keyColumns, request.incremental?.column);
  const { columns, protect } = protectColumns(policy, database, table, plan.columns);
  const start: ExtractPosition = resume
    ? {
        chunksDone: resume.chunksDone ?? 0,
        rowsDone: resume.rowsDone ?? 0,
        after: resume.after,
        cursorMax: resume.cursorMax,
      }
    : { chunksDone: 0, rowsDone: 0 };
  const schema: ExtractedSchema = { columns, keyColumns: plan.keyColumns, dialect: conn.dialect, source: sourceName };
  await sink.begin?.();
  await sink.publishSchema?.(schema);
  const end = await chunkedExtract(
    conn,
    {
      source: limit !== undefined ? { ...plan.source, limit } : plan.source,
      orderIndexes: plan.orderIndexes,
      cursorIndex: plan.cursorIndex,
      chunkRows: request.chunkRows,
      start,
      protect,
      signal: request.signal,
    },
    sink,
    onChunk,
  );
  return commitExtract(sink, end, schema, request.incremental).then((result) => ({
    ...result,
    columns: columns.map((c) => c.name),
    ...(end.after ? { last: end.after } : {}),
  }));
}

/**
 * Reads a read-only query into a buffer object. A query has no keyset: a retry starts again and
 * rewrites its chunks. Refused on a database whose columns the policy protects, since a result
 * column cannot be traced to its table reliably (aliases, expressions, views).
 */
export async function extractQuery(
  conn: DataConnection,
  request: ExtractQueryRequest,
  sink: ObjectSink,
  onChunk: (position: ExtractPosition) => void,
): Promise<ExtractResult> {
  if (request.policy.hasColumnRules(request.database)) {
    throw new DataflowError(
      DataflowErrorCode.POLICY_REFUSED,
      `${request.policy.source} drops or masks columns in ${request.database}; extract by table (not by SQL) so the policy can apply`,
    );
  }
  await request.checkSql(request.sql, conn.dialect);
  const columns = await conn.describeQuery(request.sql);
  const source: ReadSource = { kind: 'query', sql: request.sql };
  const schema: ExtractedSchema = {
    columns,
    keyColumns: request.keyColumns ?? [],
    dialect: conn.dialect,
    source: 'query',
  };
  await sink.begin?.();
  await sink.publishSchema?.(schema);
  const end = await chunkedExtract(
    conn,
    {
      source,
      orderIndexes: [],
      cursorIndex: -1,
      chunkRows: request.chunkRows,
      start: { chunksDone: 0, rowsDone: 0 },
      signal: request.signal,
    },
    sink,
    onChunk,
  );
  return commitExtract(sink, end, schema);
}

async function commitExtract(
  sink: ObjectSink,
  end: ExtractPosition,
  schema: ExtractedSchema,
  incremental?: { column: string; after?: unknown },
): Promise<ExtractResult> {
  const cursor = incremental
    ? { column: incremental.column, max: end.cursorMax ?? incremental.after ?? null }
    : undefined;
  await sink.commit({ schema, chunkCount: end.chunksDone, rowCount: end.rowsDone, meta: cursor ? { cursor } : {} });
  return {
    rowCount: end.rowsDone,
    chunkCount: end.chunksDone,
    keyColumns: schema.keyColumns,
    ...(cursor ? { cursor } : {}),
  };
}

/** Masked and hashed columns become text in the object's schema; their values are rewritten per row. */
function protectColumns(
  policy: DataPolicy,
  database: string,
  table: TableRef,
  planned: ColumnSpec[],
): { columns: ColumnSpec[]; protect?: (row: unknown[]) => void } {
  const rules: [number, 'mask' | 'hash'][] = [];
  const columns = planned.map((column, i) => {
    const action = policy.columnRule(database, table, column.name)?.action;
    if (action !== 'mask' && action !== 'hash') return column;
    rules.push([i, action]);
    return {
      name: column.name,
      type: { kind: 'text' },
      nullable: column.nullable,
      nativeType: `${action}ed ${column.nativeType}`,
    } as ColumnSpec;
  });
  if (rules.length === 0) return { columns };
  return {
    columns,
    protect: (row) => {
      for (const [i, action] of rules) row[i] = policy.protect(action, row[i]);
    },
  };
}
