import { tmpdir } from 'node:os';
import { z } from 'zod';
import { TransformError, TransformErrorCode } from './errors';

/**
 * What bounds a transform's memory and time. Parsed with zod once (the activity passes the worker's
 * settings); every field has a default sized for a 1M-row join or aggregate within 300 MB of RSS.
 */
export const TransformLimits = z.object({
  /**
   * Records (or groups, or keys) an op holds at once before it spills to disk: a sort run, the
   * dedupe and aggregate tables, a join's build side. Default 150,000.
   */
  memoryRecords: z.number().int().min(1).max(10_000_000).default(150_000),
  /**
   * Estimated bytes of records a join holds in its hash table before it spills (checked with
   * memoryRecords; whichever comes first), so that wide rows spill as soon as many narrow ones
   * would. Default 48 MiB.
   */
  memoryBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(16 * 1024 * 1024 * 1024)
    .default(48 * 1024 * 1024),
  /** Hash partitions of a spilled dedupe, aggregate or join (grace hash join). Default 32. */
  spillPartitions: z.number().int().min(2).max(1024).default(32),
  /** Folder under which each transform makes its own 0700 spill folder (removed after). Default: the OS temp folder. */
  spillDir: z.string().min(1).default(tmpdir()),
  /** Records per output batch. Default 5,000. */
  batchRecords: z.number().int().min(1).max(100_000).default(5_000),
  /** Memory of one script's QuickJS runtime, in bytes. Default 64 MiB. */
  scriptMemoryBytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .max(1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** Time one batch of records may spend in a script, in ms. Default 5,000. */
  scriptTimeoutMs: z.number().int().min(10).max(600_000).default(5_000),
  /**
   * Stack of the QuickJS runtime in bytes (deep recursion stops here). Default 256 KiB: below what
   * the host's own stack holds of QuickJS frames, so QuickJS stops the recursion, not the host.
   */
  scriptStackBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 * 1024)
    .default(256 * 1024),
  /** Records sent into the script VM per call (one JSON round trip per batch, not per record). Default 2,000. */
  scriptBatchRecords: z.number().int().min(1).max(100_000).default(2_000),
  /**
   * Old-generation heap of a transform's worker thread, in MB (its resourceLimits): past it the
   * worker is stopped and the step fails with TransformMemoryLimit. Default 128: with the young
   * generation and the host's own, a 1M x 1M join stays within 300 MB of the process's RSS.
   */
  workerHeapMb: z.number().int().min(16).max(16_384).default(128),
  /** Young-generation heap of a transform's worker thread, in MB. Default 16. */
  workerYoungMb: z.number().int().min(1).max(1024).default(16),
});
export type TransformLimits = z.infer<typeof TransformLimits>;
export type TransformLimitsInput = z.input<typeof TransformLimits>;

export function parseTransformLimits(input: TransformLimitsInput = {}): TransformLimits {
  const parsed = TransformLimits.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TransformError(
      TransformErrorCode.badInput,
      `transform limit ${issue.path.join('.') || '(limits)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}
