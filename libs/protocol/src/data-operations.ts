import { z } from 'zod';
import { SqlIdentifier as identifier, TableRef } from './database-names';
import { BufferGrant, BufferObjectId } from './buffer-http';

/**
 * Inputs and outputs of the data-plane operations (extract, load, transfer). Rows never ride
 * these: they go through the buffer (claim-check) or stay on site. Validated on both sides.
 */

const Incremental = z.object({
  /** A column that grows with every insert or update (updated_at, a sequence id). */
  column: identifier,
  /** Extract rows whose cursor is greater than this (exclusive); absent = everything. */
  after: z.unknown().optional(),
});

export const ExtractSource = z.union([
  z.object({ table: TableRef, columns: z.array(identifier).min(1).max(4096).optional() }),
  z.object({ sql: z.string().min(1).max(100_000) }),
]);
export type ExtractSource = z.infer<typeof ExtractSource>;

export const DataExtractInput = z.object({
  database: identifier,
  source: ExtractSource,
  /** Keyset order, and the key a load upserts by. Default: the table's primary key. */
  keyColumns: z.array(identifier).min(1).max(32).optional(),
  incremental: Incremental.optional(),
  /** Rows per buffer chunk. */
  chunkRows: z.number().int().min(1).max(1_000_000).default(50_000),
  /** Chosen by the workflow, so a retried extract writes the same object. */
  objectId: BufferObjectId,
  buffer: BufferGrant.optional(),
});
export type DataExtractInputT = z.input<typeof DataExtractInput>;

export const DataExtractOutput = z.object({
  objectId: BufferObjectId,
  rowCount: z.number().int().nonnegative(),
  chunkCount: z.number().int().nonnegative(),
  keyColumns: z.array(z.string()),
  /** The highest cursor value extracted; the next incremental run starts after it. */
  cursor: z.object({ column: z.string(), max: z.unknown() }).optional(),
  /** The columns the object holds, as the site's policy let them out (a table extract; for the audit record). */
  columns: z.array(z.string()).optional(),
});
export type DataExtractOutputT = z.infer<typeof DataExtractOutput>;

export const DataLoadInput = z
  .object({
    database: identifier,
    table: TableRef,
    /**
     * Rows with the same key are updated, so a load can run twice without duplicates. Required, except
     * for a following load, which takes the key columns its extract published with the schema.
     */
    keyColumns: z.array(identifier).min(1).max(32).optional(),
    objectId: BufferObjectId,
    /** Create the table from the object's schema (through the type mapping) when it is missing. */
    createIfMissing: z.boolean().default(true),
    /**
     * Load while the extract still writes the object (started with it, not after it): chunks are
     * loaded as the gateway stores them and the manifest seals them. Without it the object must be committed.
     */
    follow: z.boolean().optional(),
    buffer: BufferGrant.optional(),
  })
  .refine((input) => input.follow === true || input.keyColumns !== undefined, {
    message: 'keyColumns are required unless the load follows its extract (follow: true)',
    path: ['keyColumns'],
  });
export type DataLoadInputT = z.input<typeof DataLoadInput>;

export const DataLoadOutput = z.object({
  rowCount: z.number().int().nonnegative(),
  chunkCount: z.number().int().nonnegative(),
  created: z.boolean(),
});
export type DataLoadOutputT = z.infer<typeof DataLoadOutput>;

export const DataTransferInput = z.object({
  source: z.object({ database: identifier, table: TableRef, columns: z.array(identifier).min(1).max(4096).optional() }),
  destination: z.object({ database: identifier, table: TableRef }),
  keyColumns: z.array(identifier).min(1).max(32).optional(),
  incremental: Incremental.optional(),
  /**
   * `upsert` merges by key (safe into a table that has other rows); `append` is the bulk path
   * (COPY / multi-row INSERT) for a table this transfer fills, resumed by deleting past the last
   * committed key.
   */
  mode: z.enum(['append', 'upsert']).default('upsert'),
  batchRows: z.number().int().min(1).max(1_000_000).default(20_000),
  createIfMissing: z.boolean().default(true),
});
export type DataTransferInputT = z.input<typeof DataTransferInput>;

export const DataTransferOutput = z.object({
  rowCount: z.number().int().nonnegative(),
  created: z.boolean(),
  keyColumns: z.array(z.string()),
  cursor: z.object({ column: z.string(), max: z.unknown() }).optional(),
});
export type DataTransferOutputT = z.infer<typeof DataTransferOutput>;

/**
 * table.watch: the site-event trigger's read (issue 10 item 4). Waits up to `waitMs` for rows past
 * `after` (a PostgreSQL NOTIFY on `notifyChannel` wakes it early; otherwise the wait ends and the
 * table is read again), then extracts at most `batchRows` of them into the buffer object `objectId`,
 * ordered by the cursor column then the key columns so that rows sharing a cursor value are neither
 * lost nor read twice. Nothing is written when no row is new.
 */
export const TableWatchInput = z.object({
  database: identifier,
  table: TableRef,
  cursorColumn: identifier,
  keyColumns: z.array(identifier).min(1).max(32),
  /** The position of the last row already delivered: [cursor, ...key columns other than the cursor]. */
  after: z.array(z.unknown()).min(1).max(33).optional(),
  batchRows: z.number().int().min(1).max(1_000_000),
  /** How long to wait for a new row before answering with none (the trigger's poll interval). */
  waitMs: z.number().int().min(0).max(86_400_000),
  notifyChannel: identifier.optional(),
  /**
   * Answer the table's last row position at once (`last`; absent when the table is empty), reading
   * and writing no row: where a trigger that starts "now" begins. An agent from before it ignores
   * it and answers a batch.
   */
  anchor: z.boolean().optional(),
  objectId: BufferObjectId,
  buffer: BufferGrant.optional(),
});
export type TableWatchInputT = z.input<typeof TableWatchInput>;

export const TableWatchOutput = z.object({
  /** 0: nothing new within the wait (and no object was written). */
  rowCount: z.number().int().nonnegative(),
  objectId: BufferObjectId,
  chunkCount: z.number().int().nonnegative(),
  keyColumns: z.array(z.string()),
  /** The columns the object holds, as the site's policy let them out. */
  columns: z.array(z.string()).optional(),
  /** The batch's last row position (the next watch's `after`); absent when no row is new. An anchor: the table's last row. */
  last: z.array(z.unknown()).optional(),
  /** What woke the watch: rows already there, a NOTIFY, or the end of the wait. */
  woke: z.enum(['rows', 'notify', 'poll']),
});
export type TableWatchOutputT = z.infer<typeof TableWatchOutput>;

/**
 * data.transform: a definition's transform of rows the site's policy protects runs on the site
 * (issue 10 items 3 and 5). The agent reads the input object(s) and writes the output object
 * through the gateway's buffer routes, with one grant per object that the gateway adds on the way
 * (`leftBuffer`, `rightBuffer`: read; `outputBuffer`: write; `outputReadBuffer`: read). The op is
 * the definitions model's TransformOp: this package cannot import it (definitions imports
 * protocol), so it is checked in full by the agent, which runs the engine of @vansales/transforms;
 * here only its shape and size.
 */
export const DataTransformInput = z.object({
  transform: z
    .looseObject({ op: z.string().min(1).max(32) })
    .refine((v) => JSON.stringify(v).length <= 1_000_000, 'a transform of at most 1 MB'),
  inputs: z.object({ left: BufferObjectId, right: BufferObjectId.optional() }),
  /** Chosen by the workflow, so a retried transform writes the same object. */
  outputObjectId: BufferObjectId,
  leftBuffer: BufferGrant.optional(),
  rightBuffer: BufferGrant.optional(),
  outputBuffer: BufferGrant.optional(),
  /**
   * A read grant of the output object: a retry whose earlier attempt committed it (its answer was
   * lost) returns the committed object instead of writing it again, as the cloud's transformDataset
   * does. Absent from gateways before it: the retry then fails as before.
   */
  outputReadBuffer: BufferGrant.optional(),
});
export type DataTransformInputT = z.input<typeof DataTransformInput>;

export const DataTransformOutput = z.object({
  objectId: BufferObjectId,
  rows: z.number().int().nonnegative(),
  columns: z.array(z.string()),
});
export type DataTransformOutputT = z.infer<typeof DataTransformOutput>;
