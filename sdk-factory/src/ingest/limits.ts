import { z } from 'zod';
import { IngestError, IngestErrorCode } from './errors';

/**
 * The bounds that make ingestion safe on any input: a hostile document is refused with
 * SPEC_LIMIT_EXCEEDED naming the bound, never expanded until the process dies. Defaults take
 * GitHub's REST description (about 13 MB, 1,100+ operations) with room to spare.
 */
export const IngestLimits = z.object({
  /** Bytes of text (UTF-8) accepted. Default 32 MiB. */
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(1024 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  /**
   * YAML aliases: the `yaml` package's maxAliasCount (aliases resolved, weighted by the size of what
   * they repeat), so a "billion laughs" document is refused before it expands. Default 100.
   */
  maxYamlAliases: z.number().int().min(0).max(100_000).default(100),
  /** Nesting depth of objects and arrays in the document. Default 128 (real descriptions stay under 40). */
  maxDepth: z.number().int().min(8).max(1000).default(128),
  /** `$ref`s in the document. Default 200,000. */
  maxRefs: z.number().int().min(1).max(10_000_000).default(200_000),
  /**
   * JSON values the manifest may hold. References to named schemas stay references, but parameters,
   * responses and request bodies are inlined: this bounds a document whose references multiply.
   * Default 5,000,000.
   */
  maxManifestNodes: z.number().int().min(1000).max(100_000_000).default(5_000_000),
  /** Wall time of the whole ingestion in ms, checked between and inside its phases. Default 30 s. */
  timeoutMs: z.number().int().min(10).max(600_000).default(30_000),
  /** Problems listed (the rest are counted in one last problem). Default 1,000. */
  maxProblems: z.number().int().min(1).max(100_000).default(1000),
});
export type IngestLimits = z.infer<typeof IngestLimits>;
export type IngestLimitsInput = z.input<typeof IngestLimits>;

export function parseLimits(input: IngestLimitsInput | undefined): IngestLimits {
  const parsed = IngestLimits.safeParse(input ?? {});
  if (!parsed.success)
    throw new IngestError(
      IngestErrorCode.badLimits,
      `bad ingestion limits: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** The clock of one ingestion: `check()` throws SPEC_LIMIT_EXCEEDED once the time is spent. */
export class Deadline {
  private readonly end: number;
  constructor(private readonly ms: number) {
    this.end = Date.now() + ms;
  }
  check(phase: string): void {
    if (Date.now() > this.end)
      throw new IngestError(
        IngestErrorCode.limitExceeded,
        `ingestion took longer than ${this.ms} ms (stopped while ${phase}); the document is too large or too intricate`,
        { limit: 'timeoutMs' },
      );
  }
}

export function limitError(limit: keyof IngestLimits, message: string): IngestError {
  return new IngestError(IngestErrorCode.limitExceeded, message, { limit });
}
