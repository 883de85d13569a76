import { z } from 'zod';
import { BufferGrant, BufferObjectId } from './buffer-http';
import { SqlIdentifier, TableRef } from './database-names';
import { describedTableMatches } from './described-policy';

/**
 * The agent's HTTP operations against the site's own APIs (issue 10: a definition's `site-api`
 * endpoint), and the description of the site policy that validation reads. A task names an API of
 * the site's policy file and a path under it, never a URL: where the API is and how to log in stay
 * on the site. Records go to (or come from) the buffer; validated on both sides.
 */
const ApiName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, 'an API name of the site policy');
const Expression = z.string().min(1).max(2000);
const Path = z.string().max(2000);

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex');
/**
 * The registered API operation a site step calls (issue 11): pinned by the definition, its artifacts
 * named by hash by the gateway as the task leaves (never by the workflow). The agent fetches both by
 * hash, verifies them and runs the operation's bundle in its sandbox against the policy's API.
 */
export const SiteApiOperation = z.object({
  apiId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an API id'),
  version: z.number().int().min(1).max(1_000_000),
  key: z.string().min(1).max(512),
  /** Set by the gateway as the task leaves (a workflow's own value is replaced); the agent refuses a task without them. */
  manifestSha256: Sha256.optional(),
  bundleSha256: Sha256.optional(),
});
export type SiteApiOperationT = z.infer<typeof SiteApiOperation>;

/** Most call records one task's answer carries; past them calls are counted, not listed (a 100k-page read stays one small frame). */
export const MAX_SITE_API_CALL_RECORDS = 500;

/** One call of a site step's API operation, as the agent measured it: no parameter, header, body or URL. */
export const SiteApiCall = z.object({
  /** The answer's HTTP status; 0 when none came (refused, unreachable, timed out). */
  status: z.number().int().min(0).max(999),
  requestBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  responseBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  durationMs: z.number().int().min(0).max(2_147_483_647),
  /** When it started (ms since the epoch, the site's clock). */
  at: z.number().int().min(0).max(8_640_000_000_000_000),
});
export type SiteApiCallT = z.infer<typeof SiteApiCall>;

/**
 * The calls one attempt of a site step made through its API operation (issue 11: every call
 * audited), sent beside the answer (the result or failure frame's `apiCalls`, never in the output,
 * so it stays out of Temporal history). A summary of all of them, and at most
 * MAX_SITE_API_CALL_RECORDS records (failures kept before successes), with the count of the others.
 * Who ran it (tenant, connector) is the gateway's session, never a field here.
 */
export const SiteApiCalls = z.object({
  apiId: SiteApiOperation.shape.apiId,
  version: SiteApiOperation.shape.version,
  operationKey: SiteApiOperation.shape.key,
  method: z.string().min(1).max(16),
  /** The Temporal attempt of the task these calls belong to. */
  attempt: z.number().int().min(1).max(2_147_483_647),
  count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Calls without an answer or answered 400 or more. */
  failed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  requestBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  responseBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  durationMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  calls: z.array(SiteApiCall).max(MAX_SITE_API_CALL_RECORDS),
  /** Calls counted above but not listed. */
  dropped: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type SiteApiCallsT = z.infer<typeof SiteApiCalls>;

/** The definition step a site task runs, for the call audit (set by the workflow; absent from older runs). */
const StepName = z.string().min(1).max(200);

export const SiteHttpReadInput = z.object({
  api: ApiName,
  operation: SiteApiOperation.optional(),
  step: StepName.optional(),
  method: z.enum(['GET', 'POST']).default('GET'),
  path: Path,
  query: z.record(z.string().max(128), z.string().max(2000)).optional(),
  records: Expression.optional(),
  pagination: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('cursor'), next: Expression, param: z.string().max(128) }),
      z.object({ kind: z.literal('link-header') }),
      z.object({ kind: z.literal('page'), param: z.string().max(128), start: z.number().int().default(1) }),
    ])
    .optional(),
  maxPages: z.number().int().min(1).max(100_000).default(1000),
  /** Chosen by the workflow, so a retried read writes the same object. */
  objectId: BufferObjectId,
  buffer: BufferGrant.optional(),
});
export type SiteHttpReadInputT = z.input<typeof SiteHttpReadInput>;

export const SiteHttpReadOutput = z.object({
  objectId: BufferObjectId,
  rowCount: z.number().int().nonnegative(),
  chunkCount: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  columns: z.array(z.string()),
  truncated: z.boolean(),
});
export type SiteHttpReadOutputT = z.infer<typeof SiteHttpReadOutput>;

/** How records are sent to a site API (http.write and http.write-table alike). */
const HttpWriteFields = {
  api: ApiName,
  operation: SiteApiOperation.optional(),
  step: StepName.optional(),
  method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
  path: Path,
  batchSize: z.number().int().min(1).max(10_000).default(1),
  body: Expression.optional(),
  idempotencyKey: z.string().max(128).optional(),
};

export const SiteHttpWriteInput = z.object({
  ...HttpWriteFields,
  /** The dataset to send. */
  objectId: BufferObjectId,
  buffer: BufferGrant.optional(),
});
export type SiteHttpWriteInputT = z.input<typeof SiteHttpWriteInput>;

export const SiteHttpWriteOutput = z.object({
  requests: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
  retried: z.number().int().nonnegative(),
});
export type SiteHttpWriteOutputT = z.infer<typeof SiteHttpWriteOutput>;

/**
 * `http.write-table`: a table of one of the site's databases to one of its APIs, as ONE task on the
 * site (issue 10 pattern 3.1.2). The agent reads the table as `data.extract` does (its policy's
 * drops and masks, keyset order) and sends the records as `http.write` does (the policy's API, the
 * vault's credential): no row crosses the socket or lands in the buffer, so there is no object id.
 */
export const SiteTableWriteInput = z.object({
  source: z.object({
    database: SqlIdentifier,
    table: TableRef,
    columns: z.array(SqlIdentifier).min(1).max(4096).optional(),
    /** Keyset order of the read (default: the table's primary key); a retry resumes after what the API accepted. */
    keyColumns: z.array(SqlIdentifier).min(1).max(32).optional(),
    incremental: z.object({ column: SqlIdentifier, after: z.unknown().optional() }).optional(),
  }),
  ...HttpWriteFields,
  /** Rows read per round trip to the database. */
  chunkRows: z.number().int().min(1).max(1_000_000).default(10_000),
});
export type SiteTableWriteInputT = z.input<typeof SiteTableWriteInput>;

export const SiteTableWriteOutput = SiteHttpWriteOutput.extend({
  /** Rows read from the table (every one was sent). */
  rowCount: z.number().int().nonnegative(),
  cursor: z.object({ column: z.string(), max: z.unknown() }).optional(),
});
export type SiteTableWriteOutputT = z.infer<typeof SiteTableWriteOutput>;

export const PolicyDescribeInput = z.object({}).strict();
/**
 * What the site's policy lets the cloud do, by name only: no URL, no credential. Which columns it
 * masks or hashes (names, no values, no salt) is told so the router keeps transforms of those rows
 * on the site; absent from agents that predate it, and when the policy protects no column.
 */
export const PolicyDescribeOutput = z.object({
  writableTables: z.array(z.object({ database: z.string(), table: z.string() })).max(10_000),
  apis: z
    .array(
      z.object({
        name: z.string(),
        methods: z.array(z.enum(['GET', 'POST', 'PUT', 'PATCH'])),
        paths: z.array(z.string()),
      }),
    )
    .max(1000),
  protectedColumns: z
    .array(
      z.object({
        database: z.string(),
        table: z.string(),
        column: z.string(),
        action: z.enum(['drop', 'mask', 'hash']),
      }),
    )
    .max(10_000)
    .optional(),
});
export type PolicyDescribeOutputT = z.infer<typeof PolicyDescribeOutput>;

/**
 * Whether a described policy lets a load write `table` of `database` (the same pattern rules as
 * the agent's: `table`, `schema.table`, `schema.*`, `*`; a table without schema matches any schema).
 * For validation's early answer only: the agent checks again, on the table the server resolves.
 */
export function describedWritable(described: PolicyDescribeOutputT, database: string, table: TableRef): boolean {
  return described.writableTables.some((w) => w.database === database && describedTableMatches(w.table, table));
}
