import type {
  ApiAccess,
  DatasetRef,
  DefinitionDocument,
  HttpEndpoint,
  Placement,
  StepId,
  StepOutput,
  Trigger,
  TransformOp,
} from './model';
import type { SiteEventBatch } from './site-event';

/**
 * The contracts between the parts of issue 10, fixed first so they can be built side by side: the
 * interpreter workflow's name, input, queries and signals (the REST API and the triggers start and
 * watch it), the step activities it calls (transforms, HTTP), and the store the REST API and the
 * triggers read definitions from.
 */

/** Registered name of the interpreter workflow (workflows/src/definition-workflow.ts). */
export const DEFINITION_WORKFLOW = 'definitionWorkflow' as const;

/**
 * Search attributes: runs carry temporal-config's `SearchAttribute` keys (TenantId, DefinitionId, and
 * ConnectorId when they touch one connector); the interpreter adds DefinitionVersion (INT) and
 * ConnectorIds (KEYWORD_LIST, every connector the run's steps touch) there, so the Web UI lists runs
 * by definition and by connector.
 */

/** A run's workflow id: tenant and definition first, so listing by prefix stays within one tenant. */
export function definitionRunWorkflowId(tenantId: string, definitionId: string, runKey: string): string {
  return `def-${tenantId}-${definitionId}-${runKey}`;
}

export interface DefinitionRunInput {
  tenantId: string;
  definitionId: string;
  /** The pinned version: a run never changes version, even when a newer one is published. */
  version: number;
  hash: string;
  document: DefinitionDocument;
  /** The run's input (bounded JSON: a webhook body is a dataset reference, not inline). */
  input?: unknown;
  trigger: { kind: Trigger['kind'] | 'retry' | 'rerun'; id?: string };
  /** Retry from a step: outputs of the steps that succeeded in the failed run, reused as they are. */
  reuse?: Record<StepId, StepOutput>;
  /** The cloud activities' task queue (VSC_CLOUD_TASK_QUEUE of the cloud workers; default `cloud`). */
  cloudTaskQueue?: string;
  /**
   * The control activities' task queue (VSC_CONTROL_TASK_QUEUE; served by the gateways, which own the
   * metadata store): called definitions and incremental cursors. Without it (runs started before it
   * existed, or by hand) call steps read definitions on the cloud queue and cursors are not kept.
   */
  controlTaskQueue?: string;
  /** A site-event run's batch: the source step of the watched table reads its dataset instead of the table. */
  siteEvent?: SiteEventBatch;
}

export type StepState = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'compensated';

export interface StepRunStatus {
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  attempts?: number;
  placement?: Placement;
  /** The router's explanation of where the step ran. */
  route?: string;
  output?: StepOutput;
  error?: string;
}

export interface DefinitionRunStatus {
  state: 'running' | 'paused' | 'stopping' | 'completed' | 'failed' | 'stopped';
  version: number;
  steps: Record<StepId, StepRunStatus>;
}

/**
 * What the interpreter returns when a run ends (completed, or stopped by a control flag): its last
 * status, so the REST API reads a finished run's steps from the result instead of replaying it.
 */
export type DefinitionRunResult = DefinitionRunStatus;

/** Query of a run's per-step status and timing. */
export const RUN_STATUS_QUERY = 'runStatus' as const;
/** Signal approving (or rejecting) a `wait-for-signal` step. */
export const APPROVAL_SIGNAL = 'approval' as const;
export interface ApprovalSignal {
  stepId: StepId;
  approved: boolean;
  by: string;
  comment?: string;
}
/** Signal of a control flag change reaching a running run: pause waits at the next step boundary, stop ends there. */
export const CONTROL_SIGNAL = 'control' as const;
export interface ControlSignal {
  action: 'pause' | 'resume' | 'stop';
  scope: 'definition' | 'connector' | 'tenant';
  by: string;
}

// ---------------------------------------------------------------------------------------------------
// Step activities (cloud task queue; the agent's twins run on connector queues). Inputs carry the
// tenant: cloud activities re-check that every object they read belongs to it.
// ---------------------------------------------------------------------------------------------------
export interface TransformDatasetInput {
  tenantId: string;
  transform: TransformOp;
  /** One dataset; a join takes two (left, right). */
  inputs: { left: DatasetRef; right?: DatasetRef };
  /** Buffer object id to write (the workflow chooses it, so a retried activity overwrites the same object). */
  outputObjectId: string;
}

export interface MergeDatasetsInput {
  tenantId: string;
  inputs: DatasetRef[];
  dedupeKey?: string[];
  outputObjectId: string;
}

export interface SplitDatasetInput {
  tenantId: string;
  input: DatasetRef;
  /** Records per part (1 for for-each over records). */
  size: number;
  /** Prefix of the part objects' ids (part i is `${prefix}${i}`). */
  outputPrefix: string;
}

/** A step's `http` settings with its endpoint known (given in the step, or routed by the API's accessibility). */
type Routed<T> = T & { endpoint: HttpEndpoint };
export type HttpReadRequest = Routed<
  NonNullable<Extract<DefinitionDocument['steps'][number], { kind: 'source' }>['http']>
>;
export type HttpWriteRequest = Routed<
  NonNullable<Extract<DefinitionDocument['steps'][number], { kind: 'destination' }>['http']>
>;

export interface HttpReadInput {
  tenantId: string;
  step: StepId;
  /** The source step's `http` settings, its endpoint known. */
  request: HttpReadRequest;
  runInput?: unknown;
  outputObjectId: string;
}

export interface HttpWriteInput {
  tenantId: string;
  step: StepId;
  request: HttpWriteRequest;
  input: DatasetRef;
}

export interface HttpWriteOutput {
  requests: number;
  records: number;
  /** Requests answered 429/5xx and retried (Retry-After honoured). */
  retried: number;
}

/** Cloud-side step activities of the interpreter (workflows import this type only). */
export interface DefinitionCloudActivities {
  transformDataset(input: TransformDatasetInput): Promise<DatasetRef>;
  mergeDatasets(input: MergeDatasetsInput): Promise<DatasetRef>;
  splitDataset(input: SplitDatasetInput): Promise<DatasetRef[]>;
  /** A JSONata condition over the run's input and step values (JSONata has $now and $random: not in workflow code). */
  evaluateCondition(input: { expression: string; context: unknown }): Promise<boolean>;
  httpRead(input: HttpReadInput): Promise<DatasetRef>;
  httpWrite(input: HttpWriteInput): Promise<HttpWriteOutput>;
}

// ---------------------------------------------------------------------------------------------------
// The definition store (metadata store; REST and triggers read it).
// ---------------------------------------------------------------------------------------------------
export interface DefinitionVersion {
  tenantId: string;
  definitionId: string;
  version: number;
  /** sha256 of the canonical JSON of the document (hash.ts). */
  hash: string;
  document: DefinitionDocument;
  createdAt: string;
  /** Who saved it (the REST caller's identity). */
  createdBy?: string;
  /** Set when this version is the definition's published one. */
  publishedAt?: string;
}

export interface DefinitionStore {
  /** The published version of a definition, or undefined (none published, archived, or another tenant's). */
  published(tenantId: string, definitionId: string): Promise<DefinitionVersion | undefined>;
  version(tenantId: string, definitionId: string, version: number): Promise<DefinitionVersion | undefined>;
  /**
   * When the definition was archived (archived definitions take no new runs: the REST API answers
   * 409 instead of 404); undefined when it is not archived or not this tenant's. Optional: a store
   * without it cannot tell archived from missing.
   */
  archived?(tenantId: string, definitionId: string): Promise<{ at: string; by?: string } | undefined>;
}

// ---------------------------------------------------------------------------------------------------
// Added by the interpreter (i10-interp): its own cloud activities and its failure types.
// ---------------------------------------------------------------------------------------------------
/** Step values (a load summary, a branch decision, a JSONata result) are small JSON: bigger ones are refused. */
export const MAX_STEP_VALUE_BYTES = 64 * 1024;

/** Failure types of the interpreter and its own activities (one registry for this boundary). */
export const DefinitionRunErrorType = {
  /** The document asks for something the interpreter cannot do (e.g. a query on a cloud database). */
  unsupportedStep: 'DefinitionUnsupportedStep',
  /** A step's value, a condition's context or an expression's result is larger than MAX_STEP_VALUE_BYTES. */
  valueTooLarge: 'DefinitionValueTooLarge',
  /** A JSONata expression does not parse or fails to evaluate. */
  badExpression: 'DefinitionBadExpression',
  /** A called definition (or version) does not exist for this tenant. */
  definitionNotFound: 'DefinitionNotFound',
  /** A buffer object named in a step is not this tenant's (or is gone). */
  datasetRefused: 'DefinitionDatasetRefused',
  /** A dataset is split into more parts than a for-each takes. */
  tooManyParts: 'DefinitionTooManyParts',
  /** A wait-for-signal step was rejected, or timed out with onTimeout=fail. */
  notApproved: 'DefinitionNotApproved',
  /** A step failed and the run failed with it (the cause names the step's own failure). */
  stepFailed: 'DefinitionStepFailed',
} as const;
export type DefinitionRunErrorType = (typeof DefinitionRunErrorType)[keyof typeof DefinitionRunErrorType];

export interface LoadDefinitionVersionInput {
  tenantId: string;
  definitionId: string;
  /** A pinned version; without it the published one. */
  version?: number;
}

export interface EvaluateExpressionInput {
  /** A JSONata expression. */
  expression: string;
  /** The run's input and step values (bounded JSON). */
  context: unknown;
}

/**
 * The interpreter's own cloud activities beside the contract's step activities: reading a child's
 * definition (call steps) and evaluating a JSONata expression to a value (wait-until, call input).
 */
export interface DefinitionInterpreterActivities {
  loadDefinitionVersion(input: LoadDefinitionVersionInput): Promise<DefinitionVersion>;
  evaluateExpression(input: EvaluateExpressionInput): Promise<unknown>;
}

// ---------------------------------------------------------------------------------------------------
// Bi-directional sync (pattern 3.4.3): what both sides agreed on at the last sync, per row key.
// ---------------------------------------------------------------------------------------------------
export interface SyncStateScope {
  tenantId: string;
  definitionId: string;
  stepId: StepId;
}

/** The rows both sides of a sync step held after its last successful run (key -> row hash), in the metadata store. */
export interface SyncStateStore {
  /** How many keys the step remembers (0: it never completed, the next run is a first sync). */
  count(scope: SyncStateScope): Promise<number>;
  /** The remembered hashes of these keys (absent keys are unknown). */
  get(scope: SyncStateScope, keys: string[]): Promise<Map<string, string>>;
  /** Records what both sides now hold, in one transaction; applying the same change twice is harmless. */
  apply(scope: SyncStateScope, put: [key: string, hash: string][], remove: string[]): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Control activities: served by the gateways (they own the metadata store), on VSC_CONTROL_TASK_QUEUE.
// ---------------------------------------------------------------------------------------------------
/**
 * An incremental source as its cursor is kept: the step id, and what it reads (`sourceKey`: the
 * endpoint, table or query and cursor column). A new version that reads something else under the
 * same step id starts from the beginning instead of from a cursor that means nothing there.
 */
export interface SourceCursorRef {
  stepId: StepId;
  sourceKey: string;
}

export interface ReadSourceCursorsInput {
  tenantId: string;
  definitionId: string;
  sources: SourceCursorRef[];
}

export interface SaveSourceCursorsInput {
  tenantId: string;
  definitionId: string;
  /** The run that reached these cursors (its workflow id), kept beside them for the record. */
  runId: string;
  cursors: (SourceCursorRef & { value: unknown })[];
}

/** The interpreter's control activities (workflows import this type only). */
export interface DefinitionControlActivities {
  loadDefinitionVersion(input: LoadDefinitionVersionInput): Promise<DefinitionVersion>;
  /** The last cursor each source reached in a completed run (absent: none yet, or another source then). */
  readSourceCursors(input: ReadSourceCursorsInput): Promise<Record<StepId, unknown>>;
  /** Called once a run completed: its sources' cursors become the next run's starting points. */
  saveSourceCursors(input: SaveSourceCursorsInput): Promise<void>;
  /**
   * Where a registered API can be reached from (its accessibility), for an HTTP step that names an
   * operation and no endpoint; null when the API has none recorded (or does not exist).
   */
  apiAccess(input: { tenantId: string; apiId: string }): Promise<ApiAccess | null>;
}

/** Where the cursors of incremental sources are kept between runs (the metadata store). */
export interface SourceCursorStore {
  read(tenantId: string, definitionId: string, sources: SourceCursorRef[]): Promise<Record<StepId, unknown>>;
  save(
    tenantId: string,
    definitionId: string,
    runId: string,
    cursors: SaveSourceCursorsInput['cursors'],
  ): Promise<void>;
}
