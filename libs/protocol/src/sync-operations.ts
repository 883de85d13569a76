import { z } from 'zod';
import { SqlIdentifier as identifier, TableRef } from './database-names';
import { BufferGrant, BufferObjectId } from './buffer-http';

/**
 * Inputs and outputs of the bi-directional sync's site operations (issue 10, pattern 3.4.3). The
 * checksum is read-only and returns numbers only; rows of differing ranges go to the buffer
 * (claim-check); deletes name a buffer object of keys and go only to tables the site lets be written.
 */

/** Rows whose first key column is in (after, upTo]; integers as decimal text (bigint keys). */
export const KeyRange = z.object({
  after: z
    .string()
    .regex(/^-?\d{1,20}$/)
    .nullable(),
  upTo: z.string().regex(/^-?\d{1,20}$/),
});
export type KeyRange = z.infer<typeof KeyRange>;

const SyncTable = {
  database: identifier,
  table: TableRef,
  keyColumns: z.array(identifier).min(1).max(32),
  columns: z.array(identifier).min(1).max(4096).optional(),
};

/** Ranges per checksum task: the answer stays a small frame (about 60 bytes a range). */
export const MAX_SYNC_RANGES = 4096;

export const SyncChecksumInput = z.object({
  ...SyncTable,
  /** Without ranges: the whole table's count, checksum and first-key bounds. */
  ranges: z.array(KeyRange).max(MAX_SYNC_RANGES).optional(),
});
export type SyncChecksumInputT = z.input<typeof SyncChecksumInput>;

const Checksum = z.object({ count: z.number().int().nonnegative(), sum: z.string().regex(/^\d{1,40}$/) });
export const SyncChecksumOutput = z.object({
  bounds: Checksum.extend({ min: z.string().nullable(), max: z.string().nullable() }).optional(),
  ranges: z.array(Checksum).max(MAX_SYNC_RANGES).optional(),
});
export type SyncChecksumOutputT = z.infer<typeof SyncChecksumOutput>;

export const SyncExtractInput = z.object({
  ...SyncTable,
  ranges: z.array(KeyRange).min(1).max(MAX_SYNC_RANGES),
  chunkRows: z.number().int().min(1).max(1_000_000).default(50_000),
  /** Chosen by the workflow, so a retried extract writes the same object. */
  objectId: BufferObjectId,
  buffer: BufferGrant.optional(),
});
export type SyncExtractInputT = z.input<typeof SyncExtractInput>;

export const SyncExtractOutput = z.object({
  objectId: BufferObjectId,
  rowCount: z.number().int().nonnegative(),
  chunkCount: z.number().int().nonnegative(),
  columns: z.array(z.string()),
});
export type SyncExtractOutputT = z.infer<typeof SyncExtractOutput>;

export const SyncDeleteInput = z.object({
  database: identifier,
  table: TableRef,
  keyColumns: z.array(identifier).min(1).max(32),
  /** A buffer object whose rows are keys (in keyColumns order). */
  objectId: BufferObjectId,
  buffer: BufferGrant.optional(),
});
export type SyncDeleteInputT = z.input<typeof SyncDeleteInput>;

export const SyncDeleteOutput = z.object({
  deleted: z.number().int().nonnegative(),
  keys: z.number().int().nonnegative(),
});
export type SyncDeleteOutputT = z.infer<typeof SyncDeleteOutput>;
