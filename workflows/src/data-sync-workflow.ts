import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AgentActivities, CloudActivities } from '@vansales/activities';
import type { DataExtractOutputT, TableRef } from '@vansales/protocol';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { dataOptions } from './activity-options';
import { WorkflowErrorType } from './agent-query-workflow';

/** Where a database is: on a site (reached through its connector) or reachable from the cloud. */
export type SyncEndpoint =
  { placement: 'connector'; connectorId: string; database: string } | { placement: 'cloud'; database: string };

export interface SyncTable {
  source: TableRef;
  /** Default: the source's name (without its schema). */
  destination?: TableRef;
  columns?: string[];
  /** Default: the source's primary key. */
  keyColumns?: string[];
  /** A column that grows on every insert or update; without it every run copies the whole table (upserting). */
  cursorColumn?: string;
}

export interface DataSyncInput {
  tenantId: string;
  source: SyncEndpoint;
  destination: SyncEndpoint;
  tables: SyncTable[];
  /** Pause between runs; without it the workflow runs `maxRuns` times back to back. */
  intervalSeconds?: number;
  /** Stop after this many runs in all (default 1; 0 = never stop). */
  maxRuns?: number;
  /** Runs per workflow execution before it continues as new (keeps history short). */
  runsPerExecution?: number;
  chunkRows?: number;
  /** Cloud activities' task queue. */
  cloudTaskQueue?: string;
  maxOfflineSeconds?: number;
  heartbeatTimeoutSeconds?: number;
  /** Carried across continue-as-new; callers leave these out. */
  state?: SyncState;
}

export interface TableState {
  /** Highest cursor value copied so far (absent: the next run is a full load). */
  cursor?: unknown;
  rowsCopied: number;
  lastRunRows: number;
}

export interface SyncState {
  runsDone: number;
  tables: Record<string, TableState>;
}

export const syncStateQuery = defineQuery<SyncState>('syncState');
/** Starts the next run now instead of at the end of the interval. */
export const runSyncNowSignal = defineSignal('runSyncNow');

/**
 * Marks runs that start a full copy's load together with its extract (the load follows the buffer
 * object while the extract writes it). Runs recorded before it keep extract-then-load on replay.
 */
export const OVERLAP_EXTRACT_AND_LOAD_PATCH = 'data-sync-overlap-extract-and-load';
/**
 * The same overlap into a site database: the agent's load follows the object through the gateway
 * (`GET …/follow`) while the extract writes it. Runs recorded before it load after the extract on replay.
 */
export const OVERLAP_SITE_LOAD_PATCH = 'data-sync-overlap-site-load';

function tableKey(t: SyncTable): string {
  return t.source.schema ? `${t.source.schema}.${t.source.name}` : t.source.name;
}

/**
 * Copies tables from one database to another: a full load first, then incremental runs past the
 * cursor each table reached, which is kept in the workflow (durable, visible by query). Rows pass
 * through the buffer by reference; between two databases of one site they never leave it (a
 * single transfer on the agent). Every step is idempotent (extract by cursor, load by upsert), so
 * a crash anywhere converges when Temporal retries it.
 */
export async function dataSyncWorkflow(input: DataSyncInput): Promise<SyncState> {
  const state: SyncState = input.state ?? { runsDone: 0, tables: {} };
  for (const t of input.tables) state.tables[tableKey(t)] ??= { rowsCopied: 0, lastRunRows: 0 };
  setHandler(syncStateQuery, () => state);
  let runNow = false;
  setHandler(runSyncNowSignal, () => {
    runNow = true;
  });

  const maxRuns = input.maxRuns ?? 1;
  const perExecution = input.runsPerExecution ?? 50;
  const options = {
    maxOfflineSeconds: input.maxOfflineSeconds,
    heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
  };
  const cloudQueue = input.cloudTaskQueue ?? 'cloud';
  const agentAt = (connectorId: string) =>
    proxyActivities<AgentActivities>(dataOptions(connectorTaskQueue(connectorId), options));
  const cloud = proxyActivities<CloudActivities>(dataOptions(cloudQueue, options));
  const sameSite =
    input.source.placement === 'connector' &&
    input.destination.placement === 'connector' &&
    input.source.connectorId === input.destination.connectorId;

  // Deterministic in the workflow, so a retried extract writes the same object.
  const newObjectId = () => uuid4().replace(/-/g, '');

  const extract = async (t: SyncTable, after: unknown, objectId = newObjectId()): Promise<DataExtractOutputT> => {
    const incremental = t.cursorColumn
      ? { column: t.cursorColumn, ...(after !== undefined ? { after } : {}) }
      : undefined;
    const common = { keyColumns: t.keyColumns, incremental, chunkRows: input.chunkRows ?? 50_000, objectId };
    return input.source.placement === 'connector'
      ? agentAt(input.source.connectorId).dataExtract({
          database: input.source.database,
          source: { table: t.source, ...(t.columns ? { columns: t.columns } : {}) },
          ...common,
        })
      : cloud.cloudExtract({
          tenantId: input.tenantId,
          database: input.source.database,
          table: t.source,
          columns: t.columns,
          ...common,
        });
  };

  const load = async (t: SyncTable, extracted: DataExtractOutputT) => {
    const table = t.destination ?? { name: t.source.name };
    const keyColumns = extracted.keyColumns;
    return input.destination.placement === 'connector'
      ? agentAt(input.destination.connectorId).dataLoad({
          database: input.destination.database,
          table,
          keyColumns,
          objectId: extracted.objectId,
        })
      : cloud.cloudLoad({
          tenantId: input.tenantId,
          database: input.destination.database,
          table,
          keyColumns,
          objectId: extracted.objectId,
        });
  };

  /** A load started with its extract, following the object (its key columns come with the published schema). */
  const followingLoad = async (t: SyncTable, objectId: string) => {
    const table = t.destination ?? { name: t.source.name };
    if (input.destination.placement === 'connector') {
      return agentAt(input.destination.connectorId).dataLoad({
        database: input.destination.database,
        table,
        ...(t.keyColumns ? { keyColumns: t.keyColumns } : {}),
        objectId,
        follow: true,
      });
    }
    return cloud.cloudLoad({
      tenantId: input.tenantId,
      database: input.destination.database,
      table,
      ...(t.keyColumns ? { keyColumns: t.keyColumns } : {}),
      objectId,
      follow: true,
    });
  };

  /**
   * Extract and load at once: the load follows the object chunk by chunk and ends when the
   * manifest seals it. A failed extract (after its retries) cancels the load; a failed load lets
   * the extract finish first (its object stays in the buffer until it expires), then fails the run.
   */
  const extractWhileLoading = async (t: SyncTable, after: unknown): Promise<DataExtractOutputT> => {
    const objectId = newObjectId();
    const loadScope = new CancellationScope();
    const loading = loadScope.run(() => followingLoad(t, objectId));
    loading.catch(() => undefined);
    let extracted: DataExtractOutputT;
    try {
      extracted = await extract(t, after, objectId);
    } catch (err) {
      loadScope.cancel();
      throw err;
    }
    await loading;
    return extracted;
  };

  /** Only a full copy overlaps; an incremental run is small and skips its load when nothing changed. */
  const overlaps = (st: TableState) =>
    st.cursor === undefined &&
    (input.destination.placement === 'cloud'
      ? patched(OVERLAP_EXTRACT_AND_LOAD_PATCH)
      : patched(OVERLAP_SITE_LOAD_PATCH));

  const syncTable = async (t: SyncTable) => {
    const st = state.tables[tableKey(t)]!;
    let rows: number;
    let cursor: { max: unknown } | undefined;
    if (sameSite && input.source.placement === 'connector' && input.destination.placement === 'connector') {
      const out = await agentAt(input.source.connectorId).dataTransfer({
        source: { database: input.source.database, table: t.source, ...(t.columns ? { columns: t.columns } : {}) },
        destination: { database: input.destination.database, table: t.destination ?? { name: t.source.name } },
        keyColumns: t.keyColumns,
        incremental: t.cursorColumn
          ? { column: t.cursorColumn, ...(st.cursor !== undefined ? { after: st.cursor } : {}) }
          : undefined,
        mode: 'upsert',
      });
      rows = out.rowCount;
      cursor = out.cursor;
    } else if (overlaps(st)) {
      const extracted = await extractWhileLoading(t, st.cursor);
      rows = extracted.rowCount;
      cursor = extracted.cursor;
    } else {
      const extracted = await extract(t, st.cursor);
      if (extracted.rowCount > 0) await load(t, extracted);
      rows = extracted.rowCount;
      cursor = extracted.cursor;
    }
    st.lastRunRows = rows;
    st.rowsCopied += rows;
    if (cursor && cursor.max !== null && cursor.max !== undefined) st.cursor = cursor.max;
  };

  let runsThisExecution = 0;
  for (;;) {
    try {
      // Tables are independent: they run at once, each one's steps in order.
      await Promise.all(input.tables.map(syncTable));
    } catch (err) {
      throw offlineAsFailure(err, input);
    }
    state.runsDone += 1;
    runsThisExecution += 1;
    if (maxRuns > 0 && state.runsDone >= maxRuns) return state;
    if (runsThisExecution >= perExecution || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof dataSyncWorkflow>({ ...input, state });
    }
    if (input.intervalSeconds) await condition(() => runNow, `${input.intervalSeconds} seconds`);
    runNow = false;
  }
}

function offlineAsFailure(err: unknown, input: DataSyncInput): unknown {
  if (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  ) {
    return ApplicationFailure.nonRetryable(
      `a connector of this sync stayed offline longer than ${input.maxOfflineSeconds ?? 3600} s; start the mini connector on that site and run the sync again`,
      WorkflowErrorType.connectorOffline,
    );
  }
  return err;
}
