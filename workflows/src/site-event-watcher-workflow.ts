import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  WorkflowIdReusePolicy,
  type ActivityOptions,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type Workflow } from '@temporalio/common';
import type { AgentActivities } from '@vansales/activities';
import type { TableWatchOutputT } from '@vansales/protocol';
import type { ControlSignal, DefinitionRunInput } from '@vansales/definitions';
import { CONTROL_SIGNAL, DEFINITION_WORKFLOW, definitionRunWorkflowId } from '@vansales/definitions/contracts';
import {
  connectorIdsOf,
  siteEventRunKey,
  siteEventTriggerOf,
  WATCHER_PUBLISH_SIGNAL,
  WATCHER_STATUS_QUERY,
  type SiteEventTrigger,
  type SiteEventWatcherInput,
  type SiteEventWatcherPublish,
  type SiteEventWatcherStatus,
} from '@vansales/definitions/site-event';
import { SearchAttribute } from '@vansales/temporal-config/search-attributes';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { NON_RETRYABLE_AGENT_ERRORS } from '@vansales/protocol/agent-errors';
import { durationMs } from './definition-workflow';

export const watcherStatusQuery = defineQuery<SiteEventWatcherStatus>(WATCHER_STATUS_QUERY);
export const watcherPublishSignal = defineSignal<[SiteEventWatcherPublish]>(WATCHER_PUBLISH_SIGNAL);
const watcherControlSignal = defineSignal<[ControlSignal]>(CONTROL_SIGNAL);

const DEFAULT_HISTORY_EVENTS_LIMIT = 10_000;

/**
 * Patch ids of the watcher's behaviour changes (watchers recorded before them replay without):
 * - start-now: a trigger with `start: 'now'` first asks the agent for the table's last row
 *   (table.watch `anchor`) and starts after it, instead of delivering the rows already there;
 * - runs-in-turn: with `overlap: 'wait'` (and in documents from before the option) the watcher
 *   waits for a batch's run to end before it reads the next batch, so runs never overlap.
 */
export const SiteEventWatcherPatch = {
  startNow: 'site-event-start-now',
  runsInTurn: 'site-event-runs-in-turn',
} as const;

/**
 * One watch on the trigger's connector queue. It waits on the site for up to the poll interval, so
 * its time limit is that wait plus the batch's extract; an offline agent leaves it queued (no
 * schedule-to-start limit: the watch resumes when the site is back), and transient failures
 * (the socket dropping, the agent restarting) are retried without end.
 */
function watchOptions(trigger: SiteEventTrigger): ActivityOptions {
  return {
    taskQueue: connectorTaskQueue(trigger.connectorId),
    startToCloseTimeout: durationMs(trigger.poll) + 30 * 60_000,
    // The workflow moves on when a control flag or a new version cancels the watch; the agent's
    // wait ends on its own and its batch is dropped (the position did not move: it is read again).
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: [...NON_RETRYABLE_AGENT_ERRORS],
    },
  };
}

/** Whether a new trigger reads the same rows in the same order (so the delivered position still means something). */
const samePositions = (a: SiteEventTrigger, b: SiteEventTrigger) =>
  a.connectorId === b.connectorId &&
  a.database === b.database &&
  a.table.name === b.table.name &&
  (a.table.schema ?? null) === (b.table.schema ?? null) &&
  a.cursorColumn === b.cursorColumn &&
  a.keyColumns.join('\u0000') === b.keyColumns.join('\u0000');

/**
 * The site-event trigger (issue 10 item 4): watches one table of a site and starts one
 * definition run per batch of new rows. The position of the last delivered row lives here, in
 * workflow state (carried across continue-as-new), so the agent restarting, the gateway restarting
 * or the site going offline loses nothing: the watch is retried and resumes from that position.
 * Each run's id is derived from the batch's position range, and a start of an id that already ran
 * is refused by Temporal: a batch read again never runs twice. A control flag holds the watcher
 * (pause and stop alike: no run starts, the position is kept, nothing is read meanwhile); a new
 * version arrives as a signal and the watcher continues with it, from the same position when the
 * trigger still reads the same table in the same order.
 */
export async function siteEventWatcherWorkflow(input: SiteEventWatcherInput): Promise<SiteEventWatcherStatus> {
  const trigger = siteEventTriggerOf(input.document, input.trigger);
  if (!trigger)
    throw ApplicationFailure.create({
      type: 'SiteEventTriggerMissing',
      message: `definition ${input.definitionId} v${input.version} has no site-event trigger #${input.trigger}`,
      nonRetryable: true,
    });
  let control = input.control;
  /** Whether the start position was taken (start 'now'); carried, so a watcher never takes it twice. */
  let anchored = input.anchored ?? false;
  let republished: SiteEventWatcherPublish | undefined;
  let watchScope: CancellationScope | undefined;
  const status: SiteEventWatcherStatus = {
    state: control === 'stop' ? 'stopped' : control === 'pause' ? 'paused' : 'watching',
    version: input.version,
    ...(input.position ? { position: input.position } : {}),
    batches: input.batches ?? 0,
    rows: input.rows ?? 0,
  };
  setHandler(watcherStatusQuery, () => status);
  setHandler(watcherControlSignal, (signal) => {
    control = signal.action === 'resume' ? undefined : signal.action;
    status.state = control === 'stop' ? 'stopped' : control === 'pause' ? 'paused' : 'watching';
    if (control) watchScope?.cancel();
  });
  setHandler(watcherPublishSignal, (next) => {
    // The publish that started this watcher signals it too (signal-with-start): nothing new.
    if (next.version === input.version && next.hash === input.hash) return;
    republished = next;
    watchScope?.cancel();
  });
  // Every connector the runs touch: a flag on any of them holds the watcher (control flags list it so).
  upsertSearchAttributes([
    { key: SearchAttribute.TenantId, value: input.tenantId },
    { key: SearchAttribute.DefinitionId, value: input.definitionId },
    { key: SearchAttribute.ConnectorIds, value: connectorIdsOf(input.document) },
  ]);

  const agent = proxyActivities<AgentActivities>(watchOptions(trigger));
  const carry = (): SiteEventWatcherInput => ({
    ...input,
    control,
    ...(status.position ? { position: status.position } : {}),
    ...(anchored ? { anchored } : {}),
    batches: status.batches,
    rows: status.rows,
  });
  const historyLimit = input.historyEventsLimit ?? DEFAULT_HISTORY_EVENTS_LIMIT;

  for (;;) {
    await condition(() => !control || !!republished);
    if (republished) {
      const next = { ...carry(), ...republished };
      const nextTrigger = siteEventTriggerOf(next.document, input.trigger);
      const keep = nextTrigger && samePositions(trigger, nextTrigger);
      return continueAsNew<typeof siteEventWatcherWorkflow>({
        ...next,
        position: keep ? status.position : undefined,
        // A trigger that now reads another table (or order) takes its start position again.
        anchored: keep ? anchored : false,
      });
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= historyLimit)
      return continueAsNew<typeof siteEventWatcherWorkflow>(carry());

    const objectId = uuid4().replace(/-/g, '');
    // Documents from before the option have no `start`: their watchers start at the beginning, as they did.
    const anchor = !anchored && !status.position && trigger.start === 'now' && patched(SiteEventWatcherPatch.startNow);
    let batch: TableWatchOutputT | undefined;
    try {
      batch = await CancellationScope.cancellable(async () => {
        watchScope = CancellationScope.current();
        return agent.tableWatch({
          database: trigger.database,
          table: trigger.table,
          cursorColumn: trigger.cursorColumn,
          keyColumns: trigger.keyColumns,
          ...(status.position ? { after: status.position } : {}),
          batchRows: trigger.batchRows,
          waitMs: durationMs(trigger.poll),
          ...(trigger.notifyChannel ? { notifyChannel: trigger.notifyChannel } : {}),
          ...(anchor ? { anchor: true } : {}),
          objectId,
        });
      });
    } catch (err) {
      if (isCancellation(err)) continue;
      if (!(err instanceof ActivityFailure)) throw err;
      // A refusal that retrying cannot fix (the site's policy, a missing table or column): say so
      // in the status and try again after a poll interval, when the site may have been fixed.
      status.error = err.cause?.message ?? err.message;
      await condition(() => !!republished || !!control, durationMs(trigger.poll));
      continue;
    } finally {
      watchScope = undefined;
    }
    delete status.error;
    if (anchor) {
      anchored = true;
      // The table's last row (none: it is empty, and every row to come is new). An agent from
      // before anchors answered a batch instead: it runs like any batch (the old start).
      if (batch.rowCount === 0) {
        if (batch.last) status.position = batch.last;
        continue;
      }
    }
    // A flag or a new version that arrived during the watch: the batch is dropped, read again later.
    if (batch.rowCount === 0 || !batch.last || control || republished) continue;

    const from = status.position;
    const runId = definitionRunWorkflowId(
      input.tenantId,
      input.definitionId,
      siteEventRunKey(input.trigger, from, batch.last),
    );
    const runInput: DefinitionRunInput = {
      tenantId: input.tenantId,
      definitionId: input.definitionId,
      version: input.version,
      hash: input.hash,
      document: input.document,
      trigger: { kind: 'site-event', id: workflowInfo().workflowId },
      ...(input.cloudTaskQueue ? { cloudTaskQueue: input.cloudTaskQueue } : {}),
      ...(input.controlTaskQueue ? { controlTaskQueue: input.controlTaskQueue } : {}),
      siteEvent: {
        trigger: input.trigger,
        connectorId: trigger.connectorId,
        database: trigger.database,
        table: trigger.table,
        dataset: {
          objectId: batch.objectId,
          rows: batch.rowCount,
          ...(batch.columns ? { columns: batch.columns } : {}),
          writtenBy: { connectorId: trigger.connectorId },
        },
        ...(from ? { from } : {}),
        to: batch.last,
      },
    };
    let run: ChildWorkflowHandle<Workflow> | undefined;
    try {
      // Runs outlive the watcher's continue-as-new and its end (archive): they are abandoned, not owned.
      run = await startChild(DEFINITION_WORKFLOW, {
        workflowId: runId,
        args: [runInput],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
    } catch (err) {
      // This batch already ran (a watcher restarted from an older position): it is not run twice.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    status.position = batch.last;
    status.batches += 1;
    status.rows += batch.rowCount;
    status.lastRunId = runId;
    status.lastWoke = batch.woke;
    // Runs in turn: the next batch is read once this run ended (whatever its end: a failed run is
    // the run's to retry, and its rows stay delivered). The watcher does not continue as new
    // meanwhile, so the run it waits for is always its own child.
    if (run && trigger.overlap !== 'allow' && patched(SiteEventWatcherPatch.runsInTurn)) {
      status.running = runId;
      await run.result().catch(() => undefined);
      delete status.running;
    }
  }
}
