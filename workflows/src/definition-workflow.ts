import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AgentActivities, CloudActivities } from '@vansales/activities';
import type {
  ApprovalSignal,
  ControlSignal,
  DatasetRef,
  DefinitionCloudActivities,
  DefinitionRunInput,
  DefinitionRunStatus,
  Placement,
  StepId,
  StepOutput,
  StepRunStatus,
} from '@vansales/definitions';
import {
  APPROVAL_SIGNAL,
  CONTROL_SIGNAL,
  DEFINITION_WORKFLOW,
  DefinitionRunErrorType,
  MAX_STEP_VALUE_BYTES,
  RUN_STATUS_QUERY,
} from '@vansales/definitions/contracts';
import { routeStep } from '@vansales/definitions/routing';
import { readsWatchedTable } from '@vansales/definitions/site-event';
import { SearchAttribute } from '@vansales/temporal-config/search-attributes';
import { buildGraph, endpointOf, nearestPeer, type Graph, type GraphStep } from './definition/graph';
import { describeFailure, GraphRun, Interrupted, type Outcome, type StepInputs } from './definition/graph-run';
import { cloudDataOptions, interpreterOptions, siteDataOptions, withPolicy } from './definition/step-options';

export const runStatusQuery = defineQuery<DefinitionRunStatus>(RUN_STATUS_QUERY);
export const approvalSignal = defineSignal<[ApprovalSignal]>(APPROVAL_SIGNAL);
export const controlSignal = defineSignal<[ControlSignal]>(CONTROL_SIGNAL);

/** What the run returns: its final status (per-step state, timing, placement, outputs). */
export type DefinitionRunResult = DefinitionRunStatus;

/** State carried across continue-as-new (callers leave it out). */
export interface CarriedRun {
  status: DefinitionRunStatus;
  /** Top-level steps settled so far and how, in the order they completed (compensation runs it backwards). */
  settled: { id: StepId; outcome: Outcome }[];
  /** for-each id -> its parts and how many of them are done. */
  forEach: Record<StepId, { parts: DatasetRef[]; done: number; rows: number }>;
  approvals: Record<StepId, ApprovalSignal>;
  paused: boolean;
  stopRequested: boolean;
}

export interface DefinitionWorkflowInput extends DefinitionRunInput {
  /** Carried across continue-as-new; callers leave it out. */
  carried?: CarriedRun;
  /** Continue as new once history reaches this many events (default: when Temporal suggests it, or 20,000). */
  historyEventsLimit?: number;
}

const DEFAULT_HISTORY_EVENTS_LIMIT = 20_000;
/** Site-event runs (added after runs were recorded): the watched table's source step takes the batch. */
const SITE_EVENT_BATCH_PATCH = 'site-event-batch';

function jsonSize(value: unknown): number {
  if (value === undefined) return 0;
  // Workflow code has no Buffer: count UTF-16 units, an upper bound of UTF-8 bytes for ASCII-heavy JSON.
  return (JSON.stringify(value) ?? '').length;
}

const connectorIdsOf = (steps: readonly GraphStep[], into: Set<string>): Set<string> => {
  for (const s of steps) {
    const e = endpointOf(s);
    if (e && (e.kind === 'site-db' || e.kind === 'site-api')) into.add(e.connectorId);
    if (s.kind === 'for-each') connectorIdsOf(s.body.steps, into);
  }
  return into;
};

/**
 * The interpreter (issue 10 item 2): runs any definition document. It walks the step graph (see
 * definition/graph-run.ts), runs each step as an activity on the queue the router picks (a site's
 * connector queue or the cloud queue), passes data between steps as buffer references only, and
 * answers RUN_STATUS_QUERY with each step's state, timing, attempts, placement and route. Control
 * signals pause (at the next step boundary), resume and stop it; an approval signal releases a
 * wait-for-signal step. Long for-each loops continue as new, carrying what is done.
 */
export async function definitionWorkflow(input: DefinitionWorkflowInput): Promise<DefinitionRunResult> {
  const cloudQueue = input.cloudTaskQueue ?? 'cloud';
  const carried = input.carried;
  const status: DefinitionRunStatus = carried?.status ?? { state: 'running', version: input.version, steps: {} };
  const approvals = new Map<StepId, ApprovalSignal>(Object.entries(carried?.approvals ?? {}));
  const forEach: CarriedRun['forEach'] = carried?.forEach ?? {};
  const settled: CarriedRun['settled'] = carried?.settled ? [...carried.settled] : [];
  let paused = carried?.paused ?? false;
  let stopRequested = carried?.stopRequested ?? false;
  let continuing = false;

  setHandler(runStatusQuery, () => status);
  setHandler(approvalSignal, (signal) => {
    approvals.set(signal.stepId, signal);
  });
  setHandler(controlSignal, (signal) => {
    if (signal.action === 'pause') paused = true;
    else if (signal.action === 'resume') paused = false;
    else stopRequested = true;
    if (status.state === 'running' || status.state === 'paused')
      status.state = stopRequested ? 'stopping' : paused ? 'paused' : 'running';
  });

  if (!carried) {
    upsertSearchAttributes([
      { key: SearchAttribute.TenantId, value: input.tenantId },
      { key: SearchAttribute.DefinitionId, value: input.definitionId },
      { key: SearchAttribute.DefinitionVersion, value: input.version },
      { key: SearchAttribute.ConnectorIds, value: [...connectorIdsOf(input.document.steps, new Set())].sort() },
    ]);
  }

  const cloud = (options = interpreterOptions(cloudQueue)) =>
    proxyActivities<CloudActivities & DefinitionCloudActivities>(options);
  const agent = (connectorId: string, policy: GraphStep['onError']) =>
    proxyActivities<AgentActivities>(siteDataOptions(connectorId, policy));
  const newObjectId = () => uuid4().replace(/-/g, '');
  const stepKey = (walk: GraphRun, id: StepId) => walk.key(id);
  const statusOf = (key: string): StepRunStatus => (status.steps[key] ??= { state: 'pending' });
  const record = (walk: GraphRun, id: StepId, placement: Placement, route: string) => {
    const st = statusOf(stepKey(walk, id));
    st.placement = placement;
    st.route = route;
  };

  /** The context conditions and expressions see: the run's input and every step's value and row count. */
  const expressionContext = (walk: GraphRun) => {
    const steps: Record<string, { value?: unknown; rows?: number }> = {};
    for (const [id, st] of Object.entries(status.steps))
      if (st.output) steps[id] = { value: st.output.value, rows: st.output.dataset?.rows };
    for (const [id, out] of walk.outputs) steps[id] = { value: out.value, rows: out.dataset?.rows };
    return { input: input.input, steps };
  };

  const shouldContinueAsNew = () =>
    workflowInfo().continueAsNewSuggested ||
    workflowInfo().historyLength >= (input.historyEventsLimit ?? DEFAULT_HISTORY_EVENTS_LIMIT);

  const host = {
    paused: () => paused,
    halting: () => stopRequested || continuing,
    status: statusOf,
    now: () => new Date().toISOString(),
    // Only top-level steps are compensated: a for-each body is one step to the saga.
    completed: () => undefined,
    checkValue(step: GraphStep, output: StepOutput) {
      if (jsonSize(output.value) > MAX_STEP_VALUE_BYTES)
        throw ApplicationFailure.create({
          type: DefinitionRunErrorType.valueTooLarge,
          message: `step ${step.id} produced a value larger than ${MAX_STEP_VALUE_BYTES} bytes; pass data as a dataset`,
          nonRetryable: true,
        });
    },
    runStep: (step: GraphStep, inputs: StepInputs, walk: GraphRun) => runStep(step, inputs, walk),
  };

  /** A site-event run's source step of the watched table: it takes the batch instead of reading the table. */
  const takesBatch = (step: GraphStep): boolean =>
    step.kind === 'source' &&
    !!input.siteEvent &&
    readsWatchedTable(step.db, input.siteEvent) &&
    patched(SITE_EVENT_BATCH_PATCH);

  async function runStep(step: GraphStep, inputs: StepInputs, walk: GraphRun): Promise<StepOutput> {
    const policy = step.onError;
    switch (step.kind) {
      case 'source': {
        const endpoint = endpointOf(step)!;
        const peer = nearestPeer(walk.graph, step.id, 'down');
        const decision = routeStep({
          source: endpoint,
          destination: peer.endpoint ?? { kind: 'cloud-db', database: 'buffer' },
          transform: peer.transform,
          policyProtected: false,
        });
        if (takesBatch(step)) {
          const batch = input.siteEvent!;
          record(
            walk,
            step.id,
            { kind: 'site', connectorId: batch.connectorId },
            `${decision.reason}; its rows are the site-event batch the agent wrote`,
          );
          return { dataset: batch.dataset, value: { siteEvent: { from: batch.from ?? null, to: batch.to } } };
        }
        const fusedWith = walk.graph.fusedWith.get(step.id);
        if (fusedWith && step.db?.table && step.db.endpoint.kind === 'site-db') {
          const destination = walk.graph.steps.get(fusedWith)!;
          if (destination.kind !== 'destination' || !destination.db) throw new Error('unreachable: fused pair');
          const placement: Placement = { kind: 'site-transfer', connectorId: step.db.endpoint.connectorId };
          record(walk, step.id, placement, decision.reason);
          const out = await agent(step.db.endpoint.connectorId, policy).dataTransfer({
            source: {
              database: step.db.endpoint.database,
              table: step.db.table,
              ...(step.db.columns ? { columns: step.db.columns } : {}),
            },
            destination: { database: destination.db.endpoint.database, table: destination.db.table },
            keyColumns: destination.db.keyColumns,
            ...(step.db.incremental ? { incremental: { column: step.db.incremental.column } } : {}),
            mode: 'upsert',
            createIfMissing: destination.db.createIfMissing ?? false,
          });
          return { value: { rowCount: out.rowCount, created: out.created, transfer: true } };
        }
        if (step.db) {
          const objectId = newObjectId();
          const db = step.db;
          const common = {
            keyColumns: db.keyColumns,
            ...(db.incremental ? { incremental: { column: db.incremental.column } } : {}),
            chunkRows: 50_000,
            objectId,
          };
          if (db.endpoint.kind === 'site-db') {
            record(walk, step.id, { kind: 'site', connectorId: db.endpoint.connectorId }, decision.reason);
            const source = db.table
              ? { table: db.table, ...(db.columns ? { columns: db.columns } : {}) }
              : { sql: db.sql! };
            const out = await agent(db.endpoint.connectorId, policy).dataExtract({
              database: db.endpoint.database,
              source,
              ...common,
            });
            return {
              dataset: {
                objectId: out.objectId,
                rows: out.rowCount,
                ...(out.columns ? { columns: out.columns } : {}),
                writtenBy: { connectorId: db.endpoint.connectorId },
              },
            };
          }
          if (!db.table)
            throw ApplicationFailure.create({
              type: DefinitionRunErrorType.unsupportedStep,
              message: `step ${step.id}: a cloud database is read by table, not by query; give table`,
              nonRetryable: true,
            });
          record(walk, step.id, { kind: 'cloud' }, decision.reason);
          const out = await cloud(cloudDataOptions(cloudQueue, policy)).cloudExtract({
            tenantId: input.tenantId,
            database: db.endpoint.database,
            table: db.table,
            columns: db.columns,
            ...common,
          });
          return {
            dataset: {
              objectId: out.objectId,
              rows: out.rowCount,
              ...(out.columns ? { columns: out.columns } : {}),
              writtenBy: 'cloud',
            },
          };
        }
        if (step.http) {
          const e = step.http.endpoint;
          const onSite = e.kind === 'site-api' ? e.connectorId : undefined;
          record(walk, step.id, onSite ? { kind: 'site', connectorId: onSite } : { kind: 'cloud' }, decision.reason);
          const options = onSite ? siteDataOptions(onSite, policy) : cloudDataOptions(cloudQueue, policy);
          const dataset = await proxyActivities<DefinitionCloudActivities>(options).httpRead({
            tenantId: input.tenantId,
            step: step.id,
            request: step.http,
            runInput: input.input,
            outputObjectId: newObjectId(),
          });
          return { dataset };
        }
        throw unsupported(step.id, 'a source needs db or http');
      }

      case 'destination': {
        const endpoint = endpointOf(step)!;
        const peer = nearestPeer(walk.graph, step.id, 'up');
        const writtenBy = inputs.left?.writtenBy;
        const sourceEndpoint =
          peer.endpoint ??
          (writtenBy && writtenBy !== 'cloud'
            ? { kind: 'site-db' as const, connectorId: writtenBy.connectorId, database: 'buffer' }
            : { kind: 'cloud-db' as const, database: 'buffer' });
        const decision = routeStep({
          source: sourceEndpoint,
          destination: endpoint,
          transform: peer.transform,
          policyProtected: false,
        });
        const fusedFrom = walk.graph.fusedInto.get(step.id);
        const fusedSource = fusedFrom ? walk.graph.steps.get(fusedFrom) : undefined;
        // A batch source ran no transfer: its destination loads the batch like any dataset.
        if (fusedFrom && !(fusedSource && takesBatch(fusedSource))) {
          // The transfer of the pair ran as the source step: nothing more to do here.
          const connectorId = (endpoint as { connectorId: string }).connectorId;
          record(walk, step.id, { kind: 'site-transfer', connectorId }, decision.reason);
          return { value: walk.outputs.get(fusedFrom)?.value };
        }
        const dataset = inputs.left;
        if (!dataset) return { value: { rowCount: 0, skipped: 'no input dataset' } };
        if (step.db) {
          const db = step.db;
          const common = {
            table: db.table,
            keyColumns: db.keyColumns,
            objectId: dataset.objectId,
            createIfMissing: db.createIfMissing ?? false,
          };
          if (db.endpoint.kind === 'site-db') {
            record(walk, step.id, { kind: 'site', connectorId: db.endpoint.connectorId }, decision.reason);
            const out = await agent(db.endpoint.connectorId, policy).dataLoad({
              database: db.endpoint.database,
              ...common,
            });
            return { dataset, value: out };
          }
          record(walk, step.id, { kind: 'cloud' }, decision.reason);
          const out = await cloud(cloudDataOptions(cloudQueue, policy)).cloudLoad({
            tenantId: input.tenantId,
            database: db.endpoint.database,
            ...common,
          });
          return { dataset, value: out };
        }
        if (step.http) {
          const e = step.http.endpoint;
          const onSite = e.kind === 'site-api' ? e.connectorId : undefined;
          record(walk, step.id, onSite ? { kind: 'site', connectorId: onSite } : { kind: 'cloud' }, decision.reason);
          const options = onSite ? siteDataOptions(onSite, policy) : cloudDataOptions(cloudQueue, policy);
          const out = await proxyActivities<DefinitionCloudActivities>(options).httpWrite({
            tenantId: input.tenantId,
            step: step.id,
            request: step.http,
            input: dataset,
          });
          return { dataset, value: out };
        }
        throw unsupported(step.id, 'a destination needs db or http');
      }

      case 'transform': {
        if (!inputs.left) throw unsupported(step.id, 'a transform needs an input dataset');
        const writer = inputs.left.writtenBy;
        // Forced to the site: the connector that wrote the input runs it (the agent's twin of transformDataset).
        const onSite = step.placement === 'site' && writer !== 'cloud' ? writer.connectorId : undefined;
        if (step.placement === 'site' && !onSite)
          throw unsupported(step.id, 'placement site needs an input written on a site');
        record(
          walk,
          step.id,
          onSite ? { kind: 'site', connectorId: onSite } : { kind: 'cloud' },
          onSite
            ? 'transform placed on the site: it runs where its input was written'
            : 'transform in the cloud: buffer -> cloud transform -> buffer',
        );
        const options = onSite ? siteDataOptions(onSite, policy) : cloudDataOptions(cloudQueue, policy);
        const dataset = await proxyActivities<DefinitionCloudActivities>(options).transformDataset({
          tenantId: input.tenantId,
          transform: step.transform,
          inputs: { left: inputs.left, ...(inputs.right ? { right: inputs.right } : {}) },
          outputObjectId: newObjectId(),
        });
        return { dataset };
      }

      case 'branch': {
        record(walk, step.id, { kind: 'cloud' }, 'a condition is evaluated in the cloud (JSONata)');
        const decision = await cloud(withPolicy(interpreterOptions(cloudQueue), policy)).evaluateCondition({
          expression: step.condition,
          context: expressionContext(walk),
        });
        return { ...(inputs.left ? { dataset: inputs.left } : {}), value: { condition: decision } };
      }

      case 'parallel':
        return inputs.left ? { dataset: inputs.left } : {};

      case 'merge': {
        if (inputs.all.length === 0) return {};
        if (inputs.all.length === 1 && !step.dedupeKey) return { dataset: inputs.all[0]! };
        record(walk, step.id, { kind: 'cloud' }, `merge of ${inputs.all.length} datasets in the cloud`);
        const dataset = await cloud(withPolicy(interpreterOptions(cloudQueue), policy)).mergeDatasets({
          tenantId: input.tenantId,
          inputs: inputs.all,
          ...(step.dedupeKey ? { dedupeKey: step.dedupeKey } : {}),
          outputObjectId: newObjectId(),
        });
        return { dataset };
      }

      case 'wait': {
        let until: number | undefined;
        if (step.duration) until = Date.now() + durationMs(step.duration);
        else if (step.until) {
          let text: unknown = step.until;
          if (Number.isNaN(Date.parse(step.until)))
            text = await cloud().evaluateExpression({ expression: step.until, context: expressionContext(walk) });
          until = typeof text === 'string' ? Date.parse(text) : NaN;
          if (Number.isNaN(until)) throw unsupported(step.id, 'until is neither a time nor an expression giving one');
        }
        statusOf(stepKey(walk, step.id)).state = 'waiting';
        if (until !== undefined && until > Date.now()) {
          await condition(() => stopRequested, until - Date.now());
          if (stopRequested) throw new Interrupted('stop');
        }
        return inputs.left ? { dataset: inputs.left } : {};
      }

      case 'wait-for-signal': {
        statusOf(stepKey(walk, step.id)).state = 'waiting';
        const got = () => approvals.has(step.id) || stopRequested;
        const arrived = step.timeout ? await condition(got, durationMs(step.timeout)) : (await condition(got), true);
        if (stopRequested && !approvals.has(step.id)) throw new Interrupted('stop');
        const pass = inputs.left ? { dataset: inputs.left } : {};
        if (!arrived) {
          if ((step.onTimeout ?? 'fail') === 'continue') return { ...pass, value: { approved: false, timedOut: true } };
          throw ApplicationFailure.create({
            type: DefinitionRunErrorType.notApproved,
            message: `step ${step.id} got no approval within ${step.timeout}`,
            nonRetryable: true,
          });
        }
        const signal = approvals.get(step.id)!;
        if (!signal.approved)
          throw ApplicationFailure.create({
            type: DefinitionRunErrorType.notApproved,
            message: `step ${step.id} was rejected by ${signal.by}${signal.comment ? `: ${signal.comment}` : ''}`,
            nonRetryable: true,
          });
        return {
          ...pass,
          value: { approved: true, by: signal.by, ...(signal.comment ? { comment: signal.comment } : {}) },
        };
      }

      case 'call': {
        const child = await cloud(withPolicy(interpreterOptions(cloudQueue), policy)).loadDefinitionVersion({
          tenantId: input.tenantId,
          definitionId: step.definitionId,
          ...(step.version !== undefined ? { version: step.version } : {}),
        });
        const childInput = step.input
          ? await cloud().evaluateExpression({ expression: step.input, context: expressionContext(walk) })
          : input.input;
        const workflowId = `${workflowInfo().workflowId}-${stepKey(walk, step.id).replace(/\//g, '-')}`;
        record(walk, step.id, { kind: 'cloud' }, `child run ${workflowId} of ${step.definitionId} v${child.version}`);
        const result = await executeChild<typeof definitionWorkflow>(DEFINITION_WORKFLOW, {
          workflowId,
          args: [
            {
              tenantId: input.tenantId,
              definitionId: child.definitionId,
              version: child.version,
              hash: child.hash,
              document: child.document,
              input: childInput,
              trigger: { kind: 'api', id: workflowInfo().workflowId },
              cloudTaskQueue: cloudQueue,
            },
          ],
        });
        return { value: { workflowId, version: child.version, state: result.state } };
      }

      case 'for-each':
        return runForEach(step, inputs, walk);
    }
  }

  async function runForEach(
    step: Extract<GraphStep, { kind: 'for-each' }>,
    inputs: StepInputs,
    walk: GraphRun,
  ): Promise<StepOutput> {
    if (!inputs.left) throw unsupported(step.id, 'a for-each needs an input dataset');
    const key = stepKey(walk, step.id);
    let progress = forEach[key];
    if (!progress) {
      record(walk, step.id, { kind: 'cloud' }, 'the input is split in the cloud; each part runs the body graph');
      const parts = await cloud().splitDataset({
        tenantId: input.tenantId,
        input: inputs.left,
        size: step.over === 'records' ? 1 : (step.batchSize ?? 10_000),
        outputPrefix: `${newObjectId()}p`,
      });
      progress = forEach[key] = { parts, done: 0, rows: 0 };
    }
    const body = buildGraph(step.body.steps, step.body.edges);
    const concurrency = step.concurrency ?? 4;
    let next = progress.done;
    let running = 0;
    let failure: unknown;
    while (next < progress.parts.length) {
      await condition(() => running < concurrency || failure !== undefined);
      if (failure !== undefined || stopRequested) break;
      if (paused) {
        await condition(() => !paused || stopRequested);
        continue;
      }
      if (shouldContinueAsNew()) {
        continuing = true;
        break;
      }
      const part = progress.parts[next++]!;
      running++;
      const run = new GraphRun(host, body, `${key}/`, part);
      void run
        .run()
        .then(() => {
          progress.rows += part.rows;
        })
        .catch((err: unknown) => {
          failure ??= err;
        })
        .finally(() => running--);
    }
    await condition(() => running === 0);
    if (failure !== undefined) throw failure;
    // Parts start in order and all started ones have ended: the first `next` are done.
    progress.done = next;
    if (continuing) throw new Interrupted('continue-as-new');
    if (stopRequested && next < progress.parts.length) throw new Interrupted('stop');
    return { dataset: inputs.left, value: { parts: progress.parts.length, rows: progress.rows } };
  }

  // The walk of the document.
  const graph: Graph = buildGraph(input.document.steps, input.document.edges);
  const top = new GraphRun(
    {
      ...host,
      completed: (step, output) => void settled.push({ id: step.id, outcome: { kind: 'ok', output } }),
    },
    graph,
    '',
  );
  // Steps settled before: carried across continue-as-new, or reused from an earlier run (retry from a step).
  for (const s of settled) top.settle(s.id, s.outcome);
  if (!carried)
    for (const [id, output] of Object.entries(input.reuse ?? {})) {
      if (!graph.steps.has(id)) continue;
      const st = statusOf(id);
      Object.assign(st, { state: 'completed', output, route: 'reused: the output of an earlier run of this step' });
      settled.push({ id, outcome: { kind: 'ok', output } });
      top.settle(id, { kind: 'ok', output });
    }
  for (const [id, st] of Object.entries(status.steps))
    if (!id.includes('/') && graph.steps.has(id) && !settled.some((s) => s.id === id)) {
      if (st.state === 'skipped' && !st.error) top.settle(id, { kind: 'skipped' });
      else if (st.state === 'failed' && graph.steps.get(id)!.onError?.continueOnError)
        top.settle(id, { kind: 'error' });
    }

  try {
    await top.run();
  } catch (err) {
    if (err instanceof Interrupted) {
      if (err.reason === 'continue-as-new') continuing = true;
    } else {
      status.state = 'failed';
      await compensate(graph, top);
      throw err;
    }
  }
  if (continuing && !stopRequested) {
    // Steps that ran to an end here settle again from `settled` and the status; the for-each goes on from `done`.
    for (const [id, st] of Object.entries(status.steps))
      if (!id.includes('/') && st.state === 'running') st.state = 'pending';
    return continueAsNew<typeof definitionWorkflow>({
      ...input,
      reuse: undefined,
      carried: {
        status,
        settled,
        forEach,
        approvals: Object.fromEntries(approvals),
        paused,
        stopRequested,
      },
    });
  }
  status.state = stopRequested ? 'stopped' : 'completed';
  return status;

  /** Runs the compensation steps of completed steps, latest first; each once, failures recorded. */
  async function compensate(g: Graph, walk: GraphRun): Promise<void> {
    const all = new Map(input.document.steps.map((s) => [s.id, s] as const));
    for (const s of [...settled].reverse()) {
      const step = g.steps.get(s.id);
      const compensation = step?.onError?.compensate ? all.get(step.onError.compensate) : undefined;
      if (!compensation || s.outcome.kind !== 'ok') continue;
      const st = statusOf(compensation.id);
      st.state = 'running';
      st.startedAt = new Date().toISOString();
      st.attempts = (st.attempts ?? 0) + 1;
      try {
        const dataset = s.outcome.output.dataset;
        const output = await runStep(compensation, dataset ? { left: dataset, all: [dataset] } : { all: [] }, walk);
        st.state = 'completed';
        st.output = output;
        statusOf(s.id).state = 'compensated';
      } catch (err) {
        st.state = 'failed';
        st.error = describeFailure(err);
      }
      st.finishedAt = new Date().toISOString();
    }
  }
}

function unsupported(stepId: StepId, what: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: DefinitionRunErrorType.unsupportedStep,
    message: `step ${stepId}: ${what}`,
    nonRetryable: true,
  });
}

/** `30s`, `5m`, `2h`, `1d`, `250ms` (the model's Duration) in milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw ApplicationFailure.nonRetryable(`not a duration: ${text}`, DefinitionRunErrorType.unsupportedStep);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}
