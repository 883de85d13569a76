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
  DefinitionControlActivities,
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
import { routeApiOperation, routeStep } from '@vansales/definitions/routing';
import { incrementalSourceKey } from '@vansales/definitions/source-cursor';
import { describedProtectedColumns } from '@vansales/protocol/described-policy';
import type { PolicyDescribeOutputT } from '@vansales/protocol';
import { readsWatchedTable } from '@vansales/definitions/site-event';
import { SearchAttribute } from '@vansales/temporal-config/search-attributes';
import { buildGraph, endpointOf, nearestPeer, type Graph, type GraphStep } from './definition/graph';
import { describeFailure, GraphRun, Interrupted, type Outcome, type StepInputs } from './definition/graph-run';
import { cloudDataOptions, interpreterOptions, siteDataOptions, withPolicy } from './definition/step-options';
import { runSync, type SyncSideOps } from './definition/sync-run';
import { DefinitionPatch } from './definition/patches';
import { onSiteApi, readSiteApi, writeSiteApi } from './site-api-calls';

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
  /**
   * Objects of rows a site's policy protects (and what transforms made of them): a transform of
   * them runs on that site. Absent in executions continued before it was carried.
   */
  siteOnly?: string[];
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

/**
 * Runs from before it routed without the site's policy (`policyProtected: false` for every step):
 * they replay without asking the site. New runs ask (policy.describe) before a site source whose
 * rows a transform reads, so rows the policy protects are not sent to a transform in the cloud.
 */
export const SITE_POLICY_ROUTING_PATCH = 'definition-route-site-policy';

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

  const fuseOptions = {
    fuseSiteApi: () => patched(DefinitionPatch.siteDbToSiteApi),
    // Defined below; called only when the graph is built, after it.
    keepApart: (s: GraphStep) => takesBatch(s),
  };
  const cloud = (options = interpreterOptions(cloudQueue)) =>
    proxyActivities<CloudActivities & DefinitionCloudActivities>(options);
  const agent = (connectorId: string, policy: GraphStep['onError']) =>
    proxyActivities<AgentActivities>(siteDataOptions(connectorId, policy));
  // Runs started without a control queue (before it existed, or by hand) keep what they did then:
  // definitions from the cloud queue, and no cursors kept between runs.
  const control = input.controlTaskQueue
    ? proxyActivities<DefinitionControlActivities>(interpreterOptions(input.controlTaskQueue))
    : undefined;
  /** Top-level incremental sources, whose cursors are kept between runs. */
  const cursorSources = input.document.steps.flatMap((s) => {
    const sourceKey = s.kind === 'source' ? incrementalSourceKey(s) : undefined;
    return sourceKey ? [{ stepId: s.id, sourceKey }] : [];
  });
  let cursorsRead: Record<StepId, unknown> = {};
  /** The cursor a top-level incremental source starts after (absent: from the beginning). */
  const cursorAfter = (walk: GraphRun, id: StepId) =>
    stepKey(walk, id) === id && cursorsRead[id] !== undefined ? { after: cursorsRead[id] } : {};
  const newObjectId = () => uuid4().replace(/-/g, '');
  /** Each site's policy as its agent describes it, asked once per run (per execution) and connector. */
  const sitePolicies = new Map<string, Promise<PolicyDescribeOutputT>>();
  const sitePolicy = (connectorId: string, policy: GraphStep['onError']) => {
    let described = sitePolicies.get(connectorId);
    if (!described) {
      // The data step's options: an agent offline for a while is waited for, as its extract would be.
      described = agent(connectorId, policy).sitePolicyDescribe();
      sitePolicies.set(connectorId, described);
    }
    return described;
  };
  /**
   * Objects read from a site whose rows its policy protects: a transform of them runs on that site.
   * Carried over continue-as-new: a transform after a long for-each reads a source settled before.
   */
  const siteOnlyObjects = new Set<string>(carried?.siteOnly ?? []);
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

  /**
   * Where an operation step without an endpoint calls its API (routing.ts, routeApiOperation): its
   * accessibility, as the gateway recorded it, and the step's other end. Steps with an endpoint never
   * ask, so runs from before accessibility replay unchanged.
   */
  async function routeOperation(
    stepId: StepId,
    http: { operation?: { apiId: string } },
    other: Parameters<typeof routeApiOperation>[2],
  ): Promise<NonNullable<ReturnType<typeof routeApiOperation>>> {
    const op = http.operation;
    if (!op) throw unsupported(stepId, 'an HTTP step needs an endpoint, or an operation its API routes');
    if (!control)
      throw unsupported(
        stepId,
        `API ${op.apiId} is routed by its accessibility, which the gateway keeps: start the run through the gateway (its runs carry controlTaskQueue), or give the step an endpoint`,
      );
    const access = await control.apiAccess({ tenantId: input.tenantId, apiId: op.apiId });
    const routed = access ? routeApiOperation(op.apiId, access, other) : undefined;
    if (!routed)
      throw unsupported(
        stepId,
        `API ${op.apiId} has no accessibility recorded, so nothing routes it: register it with accessibility (site, internet or both), or give the step an endpoint`,
      );
    return routed;
  }

  async function runStep(step: GraphStep, inputs: StepInputs, walk: GraphRun): Promise<StepOutput> {
    const policy = step.onError;
    switch (step.kind) {
      case 'source': {
        const peer = nearestPeer(walk.graph, step.id, 'down');
        // An operation step without an endpoint: its API's accessibility and the other end pick it.
        const routed =
          step.http && !step.http.endpoint ? await routeOperation(step.id, step.http, peer.endpoint) : undefined;
        const endpoint = routed?.endpoint ?? endpointOf(step)!;
        // The columns of this read the site's policy masks or hashes, when a transform reads its rows.
        let protectedRead: string[] = [];
        const siteRead = step.db?.endpoint.kind === 'site-db' ? { ...step.db, endpoint: step.db.endpoint } : undefined;
        if (peer.transform && siteRead && patched(SITE_POLICY_ROUTING_PATCH)) {
          const described = await sitePolicy(siteRead.endpoint.connectorId, policy);
          protectedRead = describedProtectedColumns(
            described,
            siteRead.endpoint.database,
            siteRead.table,
            siteRead.columns,
          );
        }
        const decision = routeStep({
          source: endpoint,
          destination: peer.endpoint ?? { kind: 'cloud-db', database: 'buffer' },
          transform: peer.transform,
          policyProtected: protectedRead.length > 0,
        });
        // The router keeps the transform of these rows on the site. Runs from before agents ran
        // transforms refused them here, before anything was read.
        const keepOnSite = protectedRead.length > 0 && !!siteRead && patched(DefinitionPatch.siteTransform);
        if (protectedRead.length > 0 && siteRead && !keepOnSite) {
          const db = siteRead;
          record(walk, step.id, { kind: 'site', connectorId: db.endpoint.connectorId }, decision.reason);
          const what = db.table
            ? `${db.endpoint.database}.${db.table.schema ? `${db.table.schema}.` : ''}${db.table.name}`
            : `database ${db.endpoint.database}`;
          throw ApplicationFailure.create({
            type: DefinitionRunErrorType.unsupportedStep,
            message: `step ${step.id}: the site's policy protects ${protectedRead.join(', ')} of ${what}, and a transform after this step reads those rows: such rows are transformed on the site only, which this site's agent cannot do; read only columns the policy does not protect (give columns), or load the rows on the site and transform them there`,
            nonRetryable: true,
          });
        }
        if (takesBatch(step)) {
          const batch = input.siteEvent!;
          record(
            walk,
            step.id,
            { kind: 'site', connectorId: batch.connectorId },
            `${decision.reason}; its rows are the site-event batch the agent wrote`,
          );
          if (keepOnSite) siteOnlyObjects.add(batch.dataset.objectId);
          return { dataset: batch.dataset, value: { siteEvent: { from: batch.from ?? null, to: batch.to } } };
        }
        const fusedWith = walk.graph.fusedWith.get(step.id);
        if (fusedWith && step.db?.table && step.db.endpoint.kind === 'site-db') {
          const destination = walk.graph.steps.get(fusedWith)!;
          if (destination.kind !== 'destination') throw new Error('unreachable: fused pair');
          const placement: Placement = { kind: 'site-transfer', connectorId: step.db.endpoint.connectorId };
          record(walk, step.id, placement, decision.reason);
          if (destination.http && onSiteApi(destination.http)) {
            // The table's rows go from the site's database to the site's API in one agent task.
            const { endpoint, ...request } = destination.http;
            const out = await agent(step.db.endpoint.connectorId, policy).siteTableToApi({
              source: {
                database: step.db.endpoint.database,
                table: step.db.table,
                ...(step.db.columns ? { columns: step.db.columns } : {}),
                ...(step.db.keyColumns ? { keyColumns: step.db.keyColumns } : {}),
                ...(step.db.incremental ? { incremental: { column: step.db.incremental.column } } : {}),
              },
              api: endpoint.api,
              ...request,
              // The API calls are the destination step's.
              step: destination.id,
            });
            return { value: { ...out, transfer: true } };
          }
          if (!destination.db) throw new Error('unreachable: fused pair');
          const out = await agent(step.db.endpoint.connectorId, policy).dataTransfer({
            source: {
              database: step.db.endpoint.database,
              table: step.db.table,
              ...(step.db.columns ? { columns: step.db.columns } : {}),
            },
            destination: { database: destination.db.endpoint.database, table: destination.db.table },
            keyColumns: destination.db.keyColumns,
            ...(step.db.incremental
              ? { incremental: { column: step.db.incremental.column, ...cursorAfter(walk, step.id) } }
              : {}),
            mode: 'upsert',
            createIfMissing: destination.db.createIfMissing ?? false,
          });
          return {
            value: { rowCount: out.rowCount, created: out.created, transfer: true, ...cursorValue(out.cursor) },
          };
        }
        if (step.db) {
          const objectId = newObjectId();
          const db = step.db;
          const common = {
            keyColumns: db.keyColumns,
            ...(db.incremental
              ? { incremental: { column: db.incremental.column, ...cursorAfter(walk, step.id) } }
              : {}),
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
            if (keepOnSite) siteOnlyObjects.add(out.objectId);
            return {
              dataset: {
                objectId: out.objectId,
                rows: out.rowCount,
                ...(out.columns ? { columns: out.columns } : {}),
                writtenBy: { connectorId: db.endpoint.connectorId },
              },
              ...(db.incremental ? { value: cursorValue(out.cursor) } : {}),
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
            ...(db.incremental ? { value: cursorValue(out.cursor) } : {}),
          };
        }
        if (step.http) {
          const http = { ...step.http, endpoint: routed?.endpoint ?? step.http.endpoint! };
          const e = http.endpoint;
          const onSite = e.kind === 'site-api' ? e.connectorId : undefined;
          const reason = routed ? `${routed.reason}; ${decision.reason}` : decision.reason;
          record(walk, step.id, onSite ? { kind: 'site', connectorId: onSite } : { kind: 'cloud' }, reason);
          if (onSiteApi(http) && patched(DefinitionPatch.siteApiAgentOps))
            return {
              dataset: await readSiteApi(agent(http.endpoint.connectorId, policy), http, newObjectId(), step.id),
            };
          const options = onSite ? siteDataOptions(onSite, policy) : cloudDataOptions(cloudQueue, policy);
          const dataset = await proxyActivities<DefinitionCloudActivities>(options).httpRead({
            tenantId: input.tenantId,
            step: step.id,
            request: http,
            runInput: input.input,
            outputObjectId: newObjectId(),
          });
          return { dataset };
        }
        throw unsupported(step.id, 'a source needs db or http');
      }

      case 'destination': {
        const peer = nearestPeer(walk.graph, step.id, 'up');
        const writtenBy = inputs.left?.writtenBy;
        const sourceEndpoint =
          peer.endpoint ??
          (writtenBy && writtenBy !== 'cloud'
            ? { kind: 'site-db' as const, connectorId: writtenBy.connectorId, database: 'buffer' }
            : { kind: 'cloud-db' as const, database: 'buffer' });
        const routed =
          step.http && !step.http.endpoint ? await routeOperation(step.id, step.http, sourceEndpoint) : undefined;
        const endpoint = routed?.endpoint ?? endpointOf(step)!;
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
          const http = { ...step.http, endpoint: routed?.endpoint ?? step.http.endpoint! };
          const e = http.endpoint;
          const onSite = e.kind === 'site-api' ? e.connectorId : undefined;
          const reason = routed ? `${routed.reason}; ${decision.reason}` : decision.reason;
          record(walk, step.id, onSite ? { kind: 'site', connectorId: onSite } : { kind: 'cloud' }, reason);
          if (onSiteApi(http) && patched(DefinitionPatch.siteApiAgentOps))
            return {
              dataset,
              value: await writeSiteApi(agent(http.endpoint.connectorId, policy), http, dataset, step.id),
            };
          const options = onSite ? siteDataOptions(onSite, policy) : cloudDataOptions(cloudQueue, policy);
          const out = await proxyActivities<DefinitionCloudActivities>(options).httpWrite({
            tenantId: input.tenantId,
            step: step.id,
            request: http,
            input: dataset,
          });
          return { dataset, value: out };
        }
        throw unsupported(step.id, 'a destination needs db or http');
      }

      case 'transform': {
        if (!inputs.left) throw unsupported(step.id, 'a transform needs an input dataset');
        const writer = inputs.left.writtenBy;
        const datasets = [inputs.left, ...(inputs.right ? [inputs.right] : [])];
        const protectedInput = datasets.some((d) => siteOnlyObjects.has(d.objectId));
        const sites = [...new Set(datasets.flatMap((d) => (d.writtenBy === 'cloud' ? [] : [d.writtenBy.connectorId])))];
        // Forced to the site: the connector that wrote the input runs it (the agent's twin of transformDataset).
        if (
          (step.placement === 'site' || protectedInput) &&
          sites.length > 0 &&
          patched(DefinitionPatch.siteTransform)
        ) {
          if (sites.length > 1)
            throw unsupported(
              step.id,
              `its inputs were written by two sites (${sites.join(', ')}), and it must run on a site: a transform runs on one site only`,
            );
          const onSite = sites[0]!;
          record(
            walk,
            step.id,
            { kind: 'site', connectorId: onSite },
            protectedInput
              ? "transform on the site: the site's policy protects rows of its input, so they are transformed where they were read"
              : 'transform placed on the site: it runs where its input was written',
          );
          const outputObjectId = newObjectId();
          const out = await agent(onSite, policy).dataTransform({
            transform: step.transform,
            inputs: { left: inputs.left.objectId, ...(inputs.right ? { right: inputs.right.objectId } : {}) },
            outputObjectId,
          });
          // What is made of protected rows stays as protected: a further transform of it runs here too.
          if (protectedInput) siteOnlyObjects.add(out.objectId);
          return {
            dataset: {
              objectId: out.objectId,
              rows: out.rows,
              columns: out.columns,
              writtenBy: { connectorId: onSite },
            },
          };
        }
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
        const loader = control
          ? proxyActivities<DefinitionControlActivities>(
              withPolicy(interpreterOptions(input.controlTaskQueue!), policy),
            )
          : cloud(withPolicy(interpreterOptions(cloudQueue), policy));
        const child = await loader.loadDefinitionVersion({
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
              ...(input.controlTaskQueue ? { controlTaskQueue: input.controlTaskQueue } : {}),
            },
          ],
        });
        return { value: { workflowId, version: child.version, state: result.state } };
      }

      case 'for-each':
        return runForEach(step, inputs, walk);

      case 'sync':
        return runSyncStep(step, walk);
    }
  }

  async function runSyncStep(step: Extract<GraphStep, { kind: 'sync' }>, walk: GraphRun): Promise<StepOutput> {
    const policy = step.onError;
    const side = (end: typeof step.left): SyncSideOps => {
      const base = {
        table: end.table,
        keyColumns: step.keyColumns,
        ...(step.columns ? { columns: step.columns } : {}),
      };
      const keyed = { table: end.table, keyColumns: step.keyColumns };
      const database = end.endpoint.database;
      if (end.endpoint.kind === 'site-db') {
        const site = agent(end.endpoint.connectorId, policy);
        return {
          checksum: (ranges) => site.siteSyncChecksum({ database, ...base, ...(ranges ? { ranges } : {}) }),
          extract: (ranges, objectId) => site.siteSyncExtract({ database, ...base, ranges, objectId }),
          upsert: (objectId) => site.dataLoad({ database, ...keyed, objectId, createIfMissing: false }),
          remove: (objectId) => site.siteSyncDelete({ database, ...keyed, objectId }),
        };
      }
      const c = cloud(cloudDataOptions(cloudQueue, policy));
      const tenantId = input.tenantId;
      return {
        checksum: (ranges) => c.cloudSyncChecksum({ tenantId, database, ...base, ...(ranges ? { ranges } : {}) }),
        extract: (ranges, objectId) => c.cloudSyncExtract({ tenantId, database, ...base, ranges, objectId }),
        upsert: (objectId) => c.cloudLoad({ tenantId, database, ...keyed, objectId, createIfMissing: false }),
        remove: (objectId) => c.cloudSyncDelete({ tenantId, database, ...keyed, objectId }),
      };
    };
    record(
      walk,
      step.id,
      { kind: 'cloud' },
      'sync: each side checksums its key ranges where it lives; the differing rows meet in the cloud (buffer), each side applies its changes',
    );
    const summary = await runSync(step, {
      left: side(step.left),
      right: side(step.right),
      // The plan and its state live where the metadata store is: the gateways' control queue.
      cloud: input.controlTaskQueue
        ? proxyActivities<CloudActivities>(withPolicy(interpreterOptions(input.controlTaskQueue), policy))
        : cloud(withPolicy(interpreterOptions(cloudQueue), policy)),
      scope: { tenantId: input.tenantId, definitionId: input.definitionId, stepId: stepKey(walk, step.id) },
      newObjectId,
    });
    return { value: summary };
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
    const body = buildGraph(step.body.steps, step.body.edges, fuseOptions);
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
  const graph: Graph = buildGraph(input.document.steps, input.document.edges, fuseOptions);
  // A webhook run's entry steps read the delivery's body (before the patch they read nothing).
  const delivered = deliveredBody(input.input);
  const top = new GraphRun(
    {
      ...host,
      completed: (step, output) => void settled.push({ id: step.id, outcome: { kind: 'ok', output } }),
    },
    graph,
    '',
    delivered && patched(DefinitionPatch.webhookBodyEntry) ? delivered : undefined,
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

  // Saved only when a run completes, so a run reading them again after continue-as-new gets the same.
  if (control && cursorSources.length > 0)
    cursorsRead = await control.readSourceCursors({
      tenantId: input.tenantId,
      definitionId: input.definitionId,
      sources: cursorSources,
    });

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
        // Before the patch the next execution forgot them, and sent such a transform to the cloud.
        ...(siteOnlyObjects.size > 0 && patched(DefinitionPatch.carrySiteOnly)
          ? { siteOnly: [...siteOnlyObjects] }
          : {}),
      },
    });
  }
  if (!stopRequested && control) await saveCursors(control);
  status.state = stopRequested ? 'stopped' : 'completed';
  return status;

  /**
   * Keeps the cursor each incremental source reached (ran here, carried, or reused from an earlier
   * run) for the next run. Only a completed run saves: a failed one is read again from where the
   * last completed run ended (loads upsert by key, so reading rows twice loses nothing).
   */
  async function saveCursors(activities: DefinitionControlActivities): Promise<void> {
    const reached = cursorSources.flatMap((source) => {
      const done = settled.find((s) => s.id === source.stepId)?.outcome;
      const value = done?.kind === 'ok' ? (done.output.value as { cursor?: unknown } | undefined)?.cursor : undefined;
      return value === undefined || value === null ? [] : [{ ...source, value }];
    });
    if (reached.length === 0) return;
    await activities.saveSourceCursors({
      tenantId: input.tenantId,
      definitionId: input.definitionId,
      runId: workflowInfo().workflowId,
      cursors: reached,
    });
  }

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

/** A source's value when it read incrementally: the highest cursor it copied (none when it copied nothing). */
function cursorValue(cursor: { max: unknown } | undefined): { cursor?: unknown } {
  return cursor && cursor.max !== null && cursor.max !== undefined ? { cursor: cursor.max } : {};
}

/**
 * The body of the delivery that started a webhook run: the gateway's buffer reference in the run's
 * input (`input.webhook.body`). The cloud steps that read it check again that it is this tenant's.
 */
function deliveredBody(runInput: unknown): DatasetRef | undefined {
  const body = (runInput as { webhook?: { body?: Partial<DatasetRef> } } | undefined)?.webhook?.body;
  if (!body || typeof body !== 'object') return undefined;
  if (typeof body.objectId !== 'string' || typeof body.rows !== 'number' || body.writtenBy !== 'cloud')
    return undefined;
  return {
    objectId: body.objectId,
    rows: body.rows,
    ...(body.columns ? { columns: body.columns } : {}),
    writtenBy: 'cloud',
  };
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
