import { z } from 'zod';
// Subpath imports (zod only): the console validates documents in the browser with this file, and the
// protocol's index also exports node:crypto code.
import { BUFFER_OBJECT_ID_PATTERN } from '@vansales/protocol/buffer-http';
import { SqlIdentifier, TableRef } from '@vansales/protocol/database-names';

/**
 * The definition document (issue 10): an integration as data. A person draws it in the console or a
 * developer builds it in code; one interpreter workflow (`definitionWorkflow`) runs any of them.
 * Versions are immutable and content-hashed (see hash.ts); a run is pinned to the version it started with.
 *
 * Everything here is read as attacker-controlled input: strings are bounded, ids are a fixed
 * alphabet (they become workflow ids, search attributes and log fields), nothing is evaluated here.
 */
export const DEFINITION_FORMAT = 'vansales.definition/v1' as const;

const MAX_TEXT = 2_000;
/** A step id: stable across versions (retry-from-step, diffs and run status name steps by it). */
export const StepId = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,62}$/,
    'a step id is lower-case letters, digits and -, starting with a letter (at most 63)',
  );
export type StepId = z.infer<typeof StepId>;
/** A connector id as the gateway issues it. */
export const ConnectorId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a connector id');
/** A JSONata expression (evaluated only by the transform engine and the interpreter's condition evaluator). */
export const Expression = z.string().min(1).max(MAX_TEXT);
/** A duration such as `30s`, `5m`, `2h`, `1d` (Temporal's ms format, bounded). */
export const Duration = z.string().regex(/^\d{1,6}(ms|s|m|h|d)$/, 'a duration such as 30s, 5m, 2h or 1d');

// ---------------------------------------------------------------------------------------------------
// Where data lives. `site-*` endpoints are reached through a connector (the agent on that site);
// `cloud-db` is a database the cloud worker reaches (VSC_CLOUD_DATABASES_FILE); `http` is an API the
// cloud reaches (a SaaS or any internet API).
// ---------------------------------------------------------------------------------------------------
export const SiteDatabase = z.object({ kind: z.literal('site-db'), connectorId: ConnectorId, database: SqlIdentifier });
export const CloudDatabase = z.object({ kind: z.literal('cloud-db'), database: SqlIdentifier });
/** A user's own API on the site network: only the agent calls it, nothing leaves the site. */
export const SiteApi = z.object({
  kind: z.literal('site-api'),
  connectorId: ConnectorId,
  /** Name of an API in the agent's local policy file (the agent maps it to a base URL and credentials). */
  api: SqlIdentifier,
});
/** An API the cloud calls. Credentials are a reference to a stored secret, never inline. */
export const CloudApi = z.object({
  kind: z.literal('http'),
  baseUrl: z.string().url().max(MAX_TEXT),
  /** Name of a tenant secret the cloud attaches (header, bearer, basic); never the secret itself. */
  credential: z.string().max(128).optional(),
});
export const Endpoint = z.discriminatedUnion('kind', [SiteDatabase, CloudDatabase, SiteApi, CloudApi]);
export type Endpoint = z.infer<typeof Endpoint>;

// ---------------------------------------------------------------------------------------------------
// Per-step error policy.
// ---------------------------------------------------------------------------------------------------
export const RetryPolicy = z.object({
  maximumAttempts: z.number().int().min(1).max(100).default(5),
  initialInterval: Duration.default('1s'),
  backoffCoefficient: z.number().min(1).max(10).default(2),
  maximumInterval: Duration.default('5m'),
  /** Error types (ApplicationFailure types) never retried. */
  nonRetryableErrorTypes: z.array(z.string().max(128)).max(50).optional(),
});
export const ErrorPolicy = z.object({
  retry: RetryPolicy.optional(),
  /** The step's whole time budget (schedule to close), retries included. */
  timeout: Duration.optional(),
  /** On a final failure, record it and go on along the `error` edges (or, without one, as if it succeeded with no output). */
  continueOnError: z.boolean().default(false),
  /** A step run (once) when a later step fails the run, in reverse order of completion (saga). */
  compensate: StepId.optional(),
});
export type ErrorPolicy = z.infer<typeof ErrorPolicy>;

const stepBase = {
  id: StepId,
  name: z.string().max(200).optional(),
  onError: ErrorPolicy.optional(),
};

// ---------------------------------------------------------------------------------------------------
// Step kinds. A step's data output is a dataset (a buffer object: rows never enter workflow history)
// or nothing; `value` outputs are small JSON results (a load summary, an HTTP status) that conditions read.
// ---------------------------------------------------------------------------------------------------
const DbRead = z.object({
  endpoint: z.discriminatedUnion('kind', [SiteDatabase, CloudDatabase]),
  table: TableRef.optional(),
  /** A read query (site databases only; the agent's read-only guard checks it again). */
  sql: z.string().min(1).max(100_000).optional(),
  columns: z.array(SqlIdentifier).min(1).max(4096).optional(),
  keyColumns: z.array(SqlIdentifier).min(1).max(32).optional(),
  /**
   * Incremental read by cursor column: each run reads rows past the highest value the last completed
   * run copied (kept per definition and step by the gateway; a step that reads another table starts afresh).
   */
  incremental: z.object({ column: SqlIdentifier }).optional(),
});
/** An API id of the SDK factory's registry (the same alphabet as a definition id). */
export const ApiId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an API id is lower-case letters, digits and -');
/**
 * The API operation an HTTP step calls (issue 11): an operation of an API registered with the SDK
 * factory, pinned to one version so a new version of the API (perhaps breaking) never changes what
 * an existing definition calls. `key` is the operation manifest's stable key (the operationId, else
 * `METHOD /path`).
 */
export const ApiOperationRef = z.object({
  apiId: ApiId,
  version: z.number().int().min(1).max(1_000_000),
  key: z.string().min(1).max(512),
});
export type ApiOperationRef = z.infer<typeof ApiOperationRef>;

/**
 * Where a registered API can be reached from (issue 11 items 3 and 6; the marketplace's
 * "accessibility: site, internet or both"): only on a site's network (its agent calls it, under the
 * name the site's policy gives it: the agent maps that name to the base URL and credentials, which
 * never leave the site), only from the internet (the cloud worker calls `internet.baseUrl`), or both.
 * An HTTP step that names an operation and no endpoint is routed by it (routing.ts, routeApiOperation).
 */
export const ApiAccessibility = z.enum(['site', 'internet', 'both']);
export type ApiAccessibility = z.infer<typeof ApiAccessibility>;
export const ApiAccess = z.object({
  accessibility: ApiAccessibility,
  /** For `site` and `both`: the connector whose agent reaches it, and the API's name in that site's policy. */
  site: z.object({ connectorId: ConnectorId, api: SqlIdentifier }).optional(),
  /** For `internet` and `both`: the address the cloud calls. */
  internet: z.object({ baseUrl: z.string().url().max(MAX_TEXT) }).optional(),
});
export type ApiAccess = z.infer<typeof ApiAccess>;

/** An HTTP step's endpoint; left out of a step that names an operation, it is routed by the API's accessibility. */
export const HttpEndpoint = z.discriminatedUnion('kind', [SiteApi, CloudApi]);
export type HttpEndpoint = z.infer<typeof HttpEndpoint>;
const HttpRead = z.object({
  endpoint: HttpEndpoint.optional(),
  /** The registered API operation this request is (optional: a plain request names none; without an endpoint, required). */
  operation: ApiOperationRef.optional(),
  method: z.enum(['GET', 'POST']).default('GET'),
  path: z.string().max(MAX_TEXT),
  query: z.record(z.string().max(128), z.string().max(MAX_TEXT)).optional(),
  /** JSONata path to the records array in each response body (default: the body itself). */
  records: Expression.optional(),
  /** Pagination: follow a cursor field, the Link header, or a page number, up to maxPages. */
  pagination: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('cursor'), next: Expression, param: z.string().max(128) }),
      z.object({ kind: z.literal('link-header') }),
      z.object({ kind: z.literal('page'), param: z.string().max(128), start: z.number().int().default(1) }),
    ])
    .optional(),
  maxPages: z.number().int().min(1).max(100_000).default(1000),
});
export const SourceStep = z.object({
  ...stepBase,
  kind: z.literal('source'),
  db: DbRead.optional(),
  http: HttpRead.optional(),
});

const DbWrite = z.object({
  endpoint: z.discriminatedUnion('kind', [SiteDatabase, CloudDatabase]),
  table: TableRef,
  keyColumns: z.array(SqlIdentifier).min(1).max(32),
  createIfMissing: z.boolean().default(false),
});
const HttpWrite = z.object({
  endpoint: HttpEndpoint.optional(),
  /** The registered API operation this request is (optional: a plain request names none; without an endpoint, required). */
  operation: ApiOperationRef.optional(),
  method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
  path: z.string().max(MAX_TEXT),
  /** Records per request (1: one request per record; the body is the record, or the batch as an array). */
  batchSize: z.number().int().min(1).max(10_000).default(1),
  /** JSONata that builds each request body from the record (or the batch); default: the record. */
  body: Expression.optional(),
  /** A record field sent as the Idempotency-Key header, so a retried request is not applied twice. */
  idempotencyKey: z.string().max(128).optional(),
});
export const DestinationStep = z.object({
  ...stepBase,
  kind: z.literal('destination'),
  db: DbWrite.optional(),
  http: HttpWrite.optional(),
});

/** Transforms (item 3): each reads one dataset (join: two, on ports `left` and `right`) and writes one. */
export const TransformOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('map'), fields: z.record(z.string().max(128), Expression) }),
  z.object({ op: z.literal('filter'), where: Expression }),
  z.object({
    op: z.literal('join'),
    kind: z.enum(['inner', 'left', 'full']).default('inner'),
    leftKey: z.array(z.string().max(128)).min(1).max(16),
    rightKey: z.array(z.string().max(128)).min(1).max(16),
  }),
  z.object({
    op: z.literal('aggregate'),
    groupBy: z.array(z.string().max(128)).max(16),
    measures: z.record(
      z.string().max(128),
      z.object({
        fn: z.enum(['count', 'sum', 'min', 'max', 'avg', 'first', 'last']),
        field: z.string().max(128).optional(),
      }),
    ),
  }),
  z.object({
    op: z.literal('dedupe'),
    key: z.array(z.string().max(128)).min(1).max(16),
    keep: z.enum(['first', 'last']).default('last'),
    /** With keep=last by this field (largest wins) instead of arrival order. */
    orderBy: z.string().max(128).optional(),
  }),
  z.object({
    op: z.literal('sort'),
    by: z
      .array(z.object({ field: z.string().max(128), desc: z.boolean().default(false) }))
      .min(1)
      .max(16),
  }),
  z.object({
    op: z.literal('coerce'),
    types: z.record(
      z.string().max(128),
      z.enum(['string', 'integer', 'number', 'boolean', 'date', 'timestamp', 'json']),
    ),
  }),
  /** JavaScript in the QuickJS sandbox: `function transform(record) { return record | record[] | null }`. */
  z.object({ op: z.literal('script'), source: z.string().min(1).max(100_000) }),
]);
export type TransformOp = z.infer<typeof TransformOp>;
export const TransformStep = z.object({
  ...stepBase,
  kind: z.literal('transform'),
  transform: TransformOp,
  /** Force where it runs; default: the router decides (item 5). Policy-protected rows always stay on the site. */
  placement: z.enum(['auto', 'site', 'cloud']).default('auto'),
});

/** Runs the `then` edges when the JSONata condition (over the run's input and step values) is truthy, else `else`. */
export const BranchStep = z.object({ ...stepBase, kind: z.literal('branch'), condition: Expression });
/** Fan-out: every outgoing edge runs concurrently. */
export const ParallelStep = z.object({ ...stepBase, kind: z.literal('parallel') });
/** Fan-in: waits for every incoming edge; datasets are concatenated (and deduplicated by `dedupeKey`). */
export const MergeStep = z.object({
  ...stepBase,
  kind: z.literal('merge'),
  dedupeKey: z.array(z.string().max(128)).min(1).max(16).optional(),
});
/** Waits for a duration or until a time (ISO 8601, or a JSONata expression giving one). */
export const WaitStep = z.object({
  ...stepBase,
  kind: z.literal('wait'),
  duration: Duration.optional(),
  until: z.string().max(MAX_TEXT).optional(),
});
/** Waits for the signal `approve` (or `reject`) naming this step, e.g. an approval from the console. */
export const WaitForSignalStep = z.object({
  ...stepBase,
  kind: z.literal('wait-for-signal'),
  timeout: Duration.optional(),
  onTimeout: z.enum(['fail', 'continue']).default('fail'),
});
/** Runs another definition of the same tenant as a child run (its published version unless pinned). */
export const CallStep = z.object({
  ...stepBase,
  kind: z.literal('call'),
  definitionId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  version: z.number().int().min(1).optional(),
  /** JSONata building the child's input from this run's input and step values. */
  input: Expression.optional(),
});

/** One side of a bi-directional sync: a table of a site database (through its connector) or of a cloud database. */
const SyncTable = z.object({
  endpoint: z.discriminatedUnion('kind', [SiteDatabase, CloudDatabase]),
  table: TableRef,
});
/**
 * How a row changed on both sides since the last sync is settled: the later value of a timestamp
 * column on either side wins (ties go to `left`), or one side always wins.
 */
export const SyncConflictPolicy = z.discriminatedUnion('policy', [
  z.object({ policy: z.literal('last-writer-wins'), column: SqlIdentifier }),
  z.object({ policy: z.literal('prefer'), side: z.enum(['left', 'right']) }),
]);
export type SyncConflictPolicy = z.infer<typeof SyncConflictPolicy>;
/**
 * Bi-directional sync of two tables (pattern 3.4.3): differences are found by key-range checksums
 * computed in each database (only ranges whose checksums differ are read), each differing row is
 * copied to the side that did not change it, a row changed on both sides follows `conflict`, and
 * the rows both sides agreed on are remembered so a copied change is never echoed back. The first
 * key column must be an integer (key ranges are bisected on it).
 */
export const SyncStep = z.object({
  ...stepBase,
  kind: z.literal('sync'),
  left: SyncTable,
  right: SyncTable,
  keyColumns: z.array(SqlIdentifier).min(1).max(32),
  /** The columns compared and copied (keys included or not); default: every column of `left`. */
  columns: z.array(SqlIdentifier).min(1).max(4096).optional(),
  conflict: SyncConflictPolicy,
  /** Propagate a delete on one side to the other (when the other side did not change the row). */
  deletes: z.boolean().default(true),
  /** Ranges of at most this many rows are read rather than split further. */
  leafRows: z.number().int().min(1).max(100_000).default(256),
});
export type SyncStep = z.infer<typeof SyncStep>;

/** The step kinds a `for-each` body may contain (no nested for-each: keeps histories bounded). */
const BodyStep = z.discriminatedUnion('kind', [
  SourceStep,
  DestinationStep,
  TransformStep,
  BranchStep,
  ParallelStep,
  MergeStep,
  WaitStep,
  WaitForSignalStep,
  CallStep,
  SyncStep,
]);

export const Edge = z.object({
  from: StepId,
  to: StepId,
  /** Branch edges say `then` or `else`; `error` edges run when `from` failed with continueOnError. */
  when: z.enum(['then', 'else', 'error']).optional(),
  /** The input port of `to` (join: `left` or `right`). */
  port: z.enum(['left', 'right']).optional(),
});
export type Edge = z.infer<typeof Edge>;

/** Runs its body graph once per batch (a chunk of the input dataset) or per record, `concurrency` at a time. */
export const ForEachStep = z.object({
  ...stepBase,
  kind: z.literal('for-each'),
  over: z.enum(['batches', 'records']),
  /** Records per batch (over=batches). */
  batchSize: z.number().int().min(1).max(1_000_000).default(10_000),
  concurrency: z.number().int().min(1).max(64).default(4),
  body: z.object({ steps: z.array(BodyStep).min(1).max(200), edges: z.array(Edge).max(1000) }),
});

export const Step = z.discriminatedUnion('kind', [
  SourceStep,
  DestinationStep,
  TransformStep,
  BranchStep,
  ParallelStep,
  MergeStep,
  ForEachStep,
  WaitStep,
  WaitForSignalStep,
  CallStep,
  SyncStep,
]);
export type Step = z.infer<typeof Step>;
export type StepKind = Step['kind'];

// ---------------------------------------------------------------------------------------------------
// Triggers (item 4).
// ---------------------------------------------------------------------------------------------------
export const Trigger = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('manual') }),
  z.object({ kind: z.literal('api') }),
  z.object({
    kind: z.literal('schedule'),
    /** Cron (5 fields) or an interval; one of them. */
    cron: z.string().max(200).optional(),
    every: Duration.optional(),
    timezone: z.string().max(64).default('UTC'),
    /** Required: Temporal's default catch-up window is a year. */
    catchupWindow: Duration,
    overlap: z.enum(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all']),
  }),
  z.object({
    kind: z.literal('webhook'),
    scheme: z.enum(['standard-webhooks', 'stripe', 'github']),
    /** Header naming the delivery id runs are deduplicated by (default per scheme). */
    deliveryIdHeader: z.string().max(128).optional(),
  }),
  z.object({
    kind: z.literal('site-event'),
    connectorId: ConnectorId,
    database: SqlIdentifier,
    table: TableRef,
    cursorColumn: SqlIdentifier,
    keyColumns: z.array(SqlIdentifier).min(1).max(32),
    poll: Duration.default('30s'),
    /** PostgreSQL LISTEN channel that wakes the poll early, where the site configured a NOTIFY. */
    notifyChannel: SqlIdentifier.optional(),
    batchRows: z.number().int().min(1).max(1_000_000).default(10_000),
    /**
     * Where a new watcher starts. 'now' (the default: a trigger on new rows fires for rows written
     * after it was published, as a user expects of an event) takes the table's last row as the
     * position before its first watch; 'beginning' first delivers every row the table already holds.
     * Documents from before this option have none, and their watchers keep starting at the beginning.
     */
    start: z.enum(['now', 'beginning']).default('now'),
    /**
     * Runs of this trigger: 'wait' (the default) starts a batch's run only once the run of the
     * previous batch ended, so runs apply batches in order; 'allow' starts each run at once (runs
     * may overlap, as before this option).
     */
    overlap: z.enum(['wait', 'allow']).default('wait'),
  }),
]);
export type Trigger = z.infer<typeof Trigger>;

/**
 * The most steps a definition may have: the designer stays usable at 1,000 nodes (issue 12), and a run's
 * history, a few events per step, stays far below Temporal's limits.
 */
export const MAX_STEPS = 1_000;

export const DefinitionDocument = z.object({
  format: z.literal(DEFINITION_FORMAT),
  name: z.string().min(1).max(200),
  description: z.string().max(MAX_TEXT).optional(),
  triggers: z
    .array(Trigger)
    .max(20)
    .default([{ kind: 'manual' }]),
  steps: z.array(Step).min(1).max(MAX_STEPS),
  edges: z.array(Edge).max(5000),
});
export type DefinitionDocument = z.infer<typeof DefinitionDocument>;
/** What a caller sends (defaults not yet applied). */
export type DefinitionDocumentInput = z.input<typeof DefinitionDocument>;

// ---------------------------------------------------------------------------------------------------
// Data between steps: by reference only.
// ---------------------------------------------------------------------------------------------------
/** A dataset: a buffer object (claim check). Rows never enter workflow history. */
export const DatasetRef = z.object({
  /** The buffer's own id alphabet (BUFFER_OBJECT_ID_PATTERN): a dataset is any buffer object. */
  objectId: z.string().regex(BUFFER_OBJECT_ID_PATTERN),
  rows: z.number().int().min(0),
  columns: z.array(z.string().max(128)).max(4096).optional(),
  /** Where the object was written: a connector's site or the cloud (the buffer is shared; this guides routing). */
  writtenBy: z.union([z.object({ connectorId: ConnectorId }), z.literal('cloud')]),
});
export type DatasetRef = z.infer<typeof DatasetRef>;

/** What a step produced, as the interpreter records it (small: a dataset reference and/or a JSON value). */
export interface StepOutput {
  dataset?: DatasetRef;
  /** Small JSON (a load summary, an HTTP status, a branch's decision); bounded by the interpreter. */
  value?: unknown;
}

/** Where a step runs (item 5): the router's decision, with its reason for the run's details. */
export type Placement =
  | { kind: 'site'; connectorId: string }
  | { kind: 'cloud' }
  /** A source and destination on one site: one transfer on that site, nothing crosses the socket. */
  | { kind: 'site-transfer'; connectorId: string };
export interface RouteDecision {
  placement: Placement;
  /** Buffer objects written between source and destination on this route. */
  bufferHops: number;
  /** One sentence for the run's details, e.g. "site DB to cloud DB: site -> buffer -> cloud". */
  reason: string;
  /** Where the transform between source and destination runs, when there is one. */
  transformPlacement?: Placement;
}
