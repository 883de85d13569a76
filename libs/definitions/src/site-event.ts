import type { TableRef } from '@vansales/protocol';
import type { DatasetRef, DefinitionDocument, Trigger } from './model';

// Pure (no Node built-in): the watcher names every connector its runs touch.
export { connectorIdsOf } from './connectors';

/**
 * The site-event trigger (issue 10 item 4): one watcher workflow per `site-event` trigger of a
 * published definition. It asks the trigger's agent for the next batch of new rows of the watched
 * table (table.watch) and starts one interpreter run per batch. Workflow-safe: no Node built-in.
 */

/** Registered name of the watcher (workflows/src/site-event-watcher-workflow.ts). */
export const SITE_EVENT_WATCHER_WORKFLOW = 'siteEventWatcherWorkflow' as const;

export type SiteEventTrigger = Extract<Trigger, { kind: 'site-event' }>;

/** The n-th (0-based) site-event trigger of a document, or undefined. */
export function siteEventTriggerOf(document: DefinitionDocument, n: number): SiteEventTrigger | undefined {
  return document.triggers.filter((t): t is SiteEventTrigger => t.kind === 'site-event')[n];
}

/** Watcher id of the n-th site-event trigger of a definition: tenant first, like every id of ours. */
export function siteEventWatcherId(tenantId: string, definitionId: string, n: number): string {
  return `defwatch-${tenantId}-${definitionId}-${n}`;
}

/** The most site-event watchers a definition has (the model allows at most this many triggers). */
export const MAX_SITE_EVENT_WATCHERS = 20;

/** What a run started by a site-event batch is given (DefinitionRunInput.siteEvent). */
export interface SiteEventBatch {
  /** Which site-event trigger (0-based among the document's site-event triggers). */
  trigger: number;
  connectorId: string;
  database: string;
  table: TableRef;
  /** The batch's rows, written by the agent: the watched table's source step reads this instead of the table. */
  dataset: DatasetRef;
  /** Position after which the batch starts (absent: the table's first row), and its last row's position. */
  from?: unknown[];
  to: unknown[];
}

/** The watcher's input; a new version reaches a running watcher as WATCHER_PUBLISH_SIGNAL. */
export interface SiteEventWatcherInput {
  tenantId: string;
  definitionId: string;
  version: number;
  hash: string;
  document: DefinitionDocument;
  /** Which site-event trigger of the document this watcher serves (0-based among them). */
  trigger: number;
  cloudTaskQueue?: string;
  /** The gateways' control queue (definitions, cursors), passed to every run as the gateway's own runs get it. */
  controlTaskQueue?: string;
  /** A control flag that applied when the watcher was (re)started: it holds until told `resume`. */
  control?: 'pause' | 'stop';
  /** Carried across continue-as-new: the last delivered row's position and what was delivered. */
  position?: unknown[];
  /** Carried: the start position of a trigger that starts 'now' was taken (position may still be absent: an empty table). */
  anchored?: boolean;
  batches?: number;
  rows?: number;
  /** Continue as new once history reaches this many events (default: when Temporal suggests it, or 10,000). */
  historyEventsLimit?: number;
}

export type SiteEventWatcherPublish = Pick<
  SiteEventWatcherInput,
  'version' | 'hash' | 'document' | 'cloudTaskQueue' | 'controlTaskQueue'
>;

/** Signal: a new version of the definition was published (the watcher continues with it). */
export const WATCHER_PUBLISH_SIGNAL = 'definitionPublished' as const;
/** Query: the watcher's state. */
export const WATCHER_STATUS_QUERY = 'watcherStatus' as const;

export interface SiteEventWatcherStatus {
  state: 'watching' | 'paused' | 'stopped';
  version: number;
  /** Set once a batch was delivered. */
  position?: unknown[];
  batches: number;
  rows: number;
  lastRunId?: string;
  /** The run the watcher waits for before it reads the next batch (a trigger whose runs go in turn). */
  running?: string;
  /** What woke the last watch that found rows: rows already there, a NOTIFY, or the poll interval. */
  lastWoke?: 'rows' | 'notify' | 'poll';
  /** The last non-retryable failure of the watch (a policy refusal, a missing table), until one succeeds. */
  error?: string;
}

/**
 * The run key of a batch, from the trigger and the batch's position range: a batch read again (a
 * retried or replayed start, a watcher restarted from the same position) gets the same run id, so
 * it never runs twice. 128 bits of two FNV-1a variants over the JSON text (workflow code has no crypto).
 */
export function siteEventRunKey(trigger: number, from: unknown[] | undefined, to: unknown[]): string {
  const text = JSON.stringify([trigger, from ?? null, to]);
  const lane = (seed: number, prime: number) => {
    let h = seed >>> 0;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), prime) >>> 0;
    return h.toString(16).padStart(8, '0');
  };
  return `e${trigger}-${lane(0x811c9dc5, 0x01000193)}${lane(0x050c5d1f, 0x01000193)}${lane(0x2166136, 0x0100019d)}${lane(0x9e3779b9, 0x01000607)}`;
}

/** Whether a source step reads the watched table of a batch (that step takes the batch's dataset). */
export function readsWatchedTable(
  db: { endpoint: { kind: string; connectorId?: string; database: string }; table?: TableRef } | undefined,
  batch: Pick<SiteEventBatch, 'connectorId' | 'database' | 'table'>,
): boolean {
  return (
    !!db?.table &&
    db.endpoint.kind === 'site-db' &&
    db.endpoint.connectorId === batch.connectorId &&
    db.endpoint.database === batch.database &&
    db.table.name === batch.table.name &&
    (db.table.schema ?? null) === (batch.table.schema ?? null)
  );
}
