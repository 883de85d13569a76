import { createHash, randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { DefinitionRunRepository, DefinitionRunRow, RunCursor, TenantRunFilters } from '@vansales/metadata';
import { canonicalJson } from '@vansales/protocol';
import {
  APPROVAL_SIGNAL,
  connectorIdsOf,
  DEFINITION_WORKFLOW,
  definitionRunWorkflowId,
  RUN_STATUS_QUERY,
  type ApprovalSignal,
  type DefinitionRunInput,
  type DefinitionRunStatus,
  type DefinitionStore,
  type DefinitionVersion,
  type StepId,
  type StepOutput,
} from '@vansales/definitions';
import { SearchAttribute } from '@vansales/temporal-config';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { ControlFlagService } from './control-flags';
import type { RunQueues } from './run-queues';

/** Temporal execution statuses as the REST API names them (the `status` filter of the list). */
export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
export type RunExecutionStatus = (typeof RUN_STATUSES)[number] | 'continued_as_new' | 'unknown';
const executionStatus = (d: Pick<WorkflowExecutionDescription, 'status'>): RunExecutionStatus =>
  (d.status.name.toLowerCase() as RunExecutionStatus) ?? 'unknown';

/** What a caller who may not see run data is told instead of inputs and outputs. */
export const RUN_DATA_HIDDEN =
  'inputs and outputs are hidden: your role may read runs but not their data (operators, authors, admins and owners may)';

/** At most this many cached-running runs are read again from Temporal before a status-filtered list. */
const STATUS_REFRESH_MAX = 200;

/** How long a status query may take (a closed run is replayed by a worker to answer it). */
const QUERY_DEADLINE_MS = 10_000;

export type StartTrigger = 'manual' | 'api';

/**
 * Runs of definitions through REST (issue 10 items 2 and 4): start (manual or API, with an
 * idempotency key), list, status, cancel, retry from a step, re-run, approve. A run is pinned to the
 * published version (or an explicit one), started by name on the interpreter (DEFINITION_WORKFLOW),
 * and refused while a control flag applies or when the definition is archived.
 */
export function createDefinitionRunService(deps: {
  temporal: Client;
  workflowTaskQueue: string;
  runs: DefinitionRunRepository;
  controlFlags: ControlFlagService;
  store?: DefinitionStore;
  runQueues?: RunQueues;
}) {
  const { temporal, workflowTaskQueue, runs, controlFlags } = deps;

  const store = (): DefinitionStore => {
    if (!deps.store)
      throw new GatewayError(GatewayErrorCode.unavailable, 'this gateway has no definition store configured');
    return deps.store;
  };

  const refuseArchived = async (tenantId: string, definitionId: string) => {
    const archived = await store().archived?.(tenantId, definitionId);
    if (archived)
      throw new GatewayError(
        GatewayErrorCode.conflict,
        `definition ${definitionId} was archived at ${archived.at}${archived.by ? ` by ${archived.by}` : ''} and takes no new runs; publish a new version to run it again`,
        { archivedAt: archived.at },
      );
  };

  /** The version a new run pins: the explicit one, else the published one. */
  async function pinnedVersion(tenantId: string, definitionId: string, version?: number): Promise<DefinitionVersion> {
    await refuseArchived(tenantId, definitionId);
    const found =
      version !== undefined
        ? await store().version(tenantId, definitionId, version)
        : await store().published(tenantId, definitionId);
    if (!found)
      throw new GatewayError(
        GatewayErrorCode.notFound,
        version !== undefined
          ? `definition ${definitionId} has no version ${version} in tenant ${tenantId}`
          : `definition ${definitionId} has no published version in tenant ${tenantId}; publish one or name a version`,
      );
    return found;
  }

  /**
   * Starts a run (or finds the one an earlier request with the same idempotency key started). The
   * workflow id is derived from the key and started with USE_EXISTING (a running twin is joined)
   * and REJECT_DUPLICATE (a finished twin is not started again), so the key holds across gateway
   * nodes even before either has written its row.
   */
  async function startRun(
    tenantId: string,
    definitionId: string,
    input: Omit<DefinitionRunInput, 'tenantId' | 'definitionId'>,
    options: { idempotencyKey?: string; startedBy: string },
  ): Promise<{ run: DefinitionRunRow; created: boolean }> {
    const requestHash = createHash('sha256')
      .update(canonicalJson({ version: input.version, input: input.input ?? null, trigger: input.trigger }))
      .digest('hex');
    const key = options.idempotencyKey;
    const sameRequest = (run: DefinitionRunRow) => {
      if (run.requestHash !== requestHash)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `Idempotency-Key was first used for another request (run ${run.workflowId}); use a new key for a new run`,
          { runId: run.workflowId },
        );
      return { run, created: false };
    };
    if (key) {
      const existing = await runs.byIdempotencyKey(tenantId, definitionId, key);
      if (existing) return sameRequest(existing);
    }
    const connectorIds = connectorIdsOf(input.document);
    const target = { tenantId, definitionId, connectorIds };
    await controlFlags.checkRunAllowed(target);
    // The key itself never reaches the workflow id (any text a caller sends); its hash does.
    const runKey = key
      ? `k${createHash('sha256').update(`${tenantId}\u0000${definitionId}\u0000${key}`).digest('hex').slice(0, 32)}`
      : randomUUID().replaceAll('-', '');
    const workflowId = definitionRunWorkflowId(tenantId, definitionId, runKey);
    // Queues as configured now: a retried or re-run run goes where this gateway's workers are.
    const runInput: DefinitionRunInput = { ...input, ...deps.runQueues, tenantId, definitionId };
    try {
      await temporal.workflow.start(DEFINITION_WORKFLOW, {
        taskQueue: workflowTaskQueue,
        workflowId,
        args: [runInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: SearchAttribute.TenantId, value: tenantId },
          { key: SearchAttribute.DefinitionId, value: definitionId },
          { key: SearchAttribute.DefinitionVersion, value: input.version },
          { key: SearchAttribute.ConnectorIds, value: connectorIds },
          ...(connectorIds.length === 1 ? [{ key: SearchAttribute.ConnectorId, value: connectorIds[0]! }] : []),
        ],
      });
    } catch (err) {
      // Another node started this key's run and it has already finished: it is the run.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    const recorded = await runs.insert({
      tenantId,
      definitionId,
      version: input.version,
      workflowId,
      runKey,
      triggerKind: input.trigger.kind,
      idempotencyKey: key ?? null,
      requestHash,
      startedBy: options.startedBy,
      connectorIds,
    });
    if (!recorded.created) return sameRequest(recorded.run);
    // A flag set between the check and the start did not see this run in its listing.
    await controlFlags.recheckStarted(workflowId, target, options.startedBy);
    return recorded;
  }

  /** A run of this tenant and definition; the same 404 for another tenant's run and for none. */
  async function owned(tenantId: string, definitionId: string, runId: string) {
    const notFound = () =>
      new GatewayError(
        GatewayErrorCode.notFound,
        `run ${runId} of definition ${definitionId} not found in tenant ${tenantId}`,
      );
    const handle = temporal.workflow.getHandle(runId);
    const description = await handle.describe().catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
    if (
      !description ||
      description.type !== DEFINITION_WORKFLOW ||
      description.typedSearchAttributes.get(SearchAttribute.TenantId) !== tenantId ||
      description.typedSearchAttributes.get(SearchAttribute.DefinitionId) !== definitionId
    )
      throw notFound();
    return { handle, description, row: await runs.get(tenantId, runId) };
  }

  /** The run's steps: the query while it runs (or to replay a failed one), the result once completed. */
  async function runStatus(
    handle: ReturnType<Client['workflow']['getHandle']>,
    status: RunExecutionStatus,
  ): Promise<DefinitionRunStatus | null> {
    if (status === 'completed') {
      const result = (await handle.result().catch(() => undefined)) as DefinitionRunStatus | undefined;
      if (result && typeof result === 'object' && 'steps' in result) return result;
    }
    try {
      return await temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        handle.query<DefinitionRunStatus>(RUN_STATUS_QUERY),
      );
    } catch {
      // No worker can answer (none polling, or the run's history cannot be replayed): no steps.
      return null;
    }
  }

  /** The input a run started with, read back from its first history event. */
  async function startInput(tenantId: string, handle: ReturnType<Client['workflow']['getHandle']>) {
    const history = await handle.fetchHistory();
    const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    const [input] = await decodeArrayFromPayloads(temporal.options.loadedDataConverter, payloads, {
      type: 'workflow',
      namespace: temporal.options.namespace,
      workflowId: handle.workflowId,
    });
    const run = input as DefinitionRunInput | undefined;
    // The run was checked as this tenant's by its search attributes; its input must agree.
    if (!run || run.tenantId !== tenantId) throw new Error(`run ${handle.workflowId} has no readable input`);
    return run;
  }

  /** Steps that depend on `from` (its descendants over the edges), `from` included. */
  function downstreamOf(document: DefinitionRunInput['document'], from: StepId): Set<StepId> {
    const out = new Set<StepId>([from]);
    const queue = [from];
    while (queue.length) {
      const at = queue.shift()!;
      for (const e of document.edges)
        if (e.from === at && !out.has(e.to)) {
          out.add(e.to);
          queue.push(e.to);
        }
    }
    return out;
  }

  const view = (row: DefinitionRunRow | undefined, description: WorkflowExecutionDescription) => ({
    runId: description.workflowId,
    definitionId: description.typedSearchAttributes.get(SearchAttribute.DefinitionId) ?? '',
    version: description.typedSearchAttributes.get(SearchAttribute.DefinitionVersion) ?? row?.version ?? null,
    status: executionStatus(description),
    // Runs a schedule or a webhook started have no row here: their trigger is in their input.
    trigger: row?.triggerKind ?? null,
    startedBy: row?.startedBy ?? null,
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString() ?? null,
  });

  /**
   * The cached status of listed runs that were running when last read, read again from Temporal, so
   * a page shows what Temporal says now without asking it about runs that have ended (their status
   * no longer changes). A run Temporal no longer knows (past retention) keeps its last status.
   */
  async function refreshRunning(tenantId: string, rows: DefinitionRunRow[]) {
    await Promise.all(
      rows
        .filter((r) => r.status === 'running')
        .map(async (r) => {
          const d = await temporal.workflow
            .getHandle(r.workflowId)
            .describe()
            .catch(() => undefined);
          if (!d || d.typedSearchAttributes.get(SearchAttribute.TenantId) !== tenantId) return;
          const now = executionStatus(d);
          if (now !== r.status) {
            await runs.cacheStatus(tenantId, r.workflowId, now);
            r.status = now;
          }
        }),
    );
  }

  return {
    startRun,

    /**
     * GET /v1/tenants/:t/runs: every run of the tenant started through the control plane, newest
     * first, from the run table (indexed; Temporal's visibility is asked only about the page's
     * running runs). `after` is the opaque cursor of the previous page's `next`.
     */
    async listTenant(tenantId: string, filters: TenantRunFilters, page: { limit: number; after?: string }) {
      const after = page.after ? decodeRunCursor(page.after) : undefined;
      // A status filter reads the cached column: the runs it last saw running are read again first
      // (the newest STATUS_REFRESH_MAX), so a run that has since failed is found under failed.
      if (filters.status)
        await refreshRunning(
          tenantId,
          await runs.listTenant(tenantId, { status: 'running' }, { limit: STATUS_REFRESH_MAX }),
        );
      const rows = await runs.listTenant(tenantId, filters, { limit: page.limit, after });
      await refreshRunning(tenantId, rows);
      const last = rows.at(-1);
      return {
        // A run whose status changed on refresh no longer matches a status filter: it leaves the page.
        runs: rows
          .filter((r) => !filters.status || r.status === filters.status)
          .map((r) => ({
            runId: r.workflowId,
            definitionId: r.definitionId,
            version: r.version,
            status: r.status,
            trigger: r.triggerKind,
            startedBy: r.startedBy,
            startedAt: r.createdAt.toISOString(),
            statusAt: r.statusAt.toISOString(),
            connectorIds: r.connectorIds,
          })),
        ...(rows.length === page.limit && last ? { next: encodeRunCursor(last.cursor) } : {}),
      };
    },

    /** POST .../runs: a manual or API start, pinned to the published (or the named) version. */
    async start(
      tenantId: string,
      definitionId: string,
      body: { input?: unknown; version?: number; trigger?: StartTrigger },
      options: { idempotencyKey?: string; startedBy: string },
    ) {
      const pinned = await pinnedVersion(tenantId, definitionId, body.version);
      const kind = body.trigger ?? 'manual';
      if (!pinned.document.triggers.some((t) => t.kind === kind))
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `version ${pinned.version} of definition ${definitionId} declares no ${kind} trigger (it has: ${
            pinned.document.triggers.map((t) => t.kind).join(', ') || 'none'
          }); add one to start it through REST`,
        );
      return startRun(
        tenantId,
        definitionId,
        {
          version: pinned.version,
          hash: pinned.hash,
          document: pinned.document,
          input: body.input,
          trigger: { kind },
        },
        options,
      );
    },

    async list(tenantId: string, definitionId: string, options: { status?: string; limit?: number }) {
      const limit = options.limit ?? 50;
      const rows = new Map((await runs.list(tenantId, definitionId, { limit: 500 })).map((r) => [r.workflowId, r]));
      // Visibility lists runs started anywhere (schedules, webhooks, other nodes) with their status.
      const clauses = [
        `WorkflowType = '${DEFINITION_WORKFLOW}'`,
        `TenantId = '${tenantId}'`,
        `DefinitionId = '${definitionId}'`,
      ];
      if (options.status) clauses.push(`ExecutionStatus = '${temporalStatusName(options.status)}'`);
      const listed = [];
      for await (const wf of temporal.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
        listed.push(view(rows.get(wf.workflowId), wf as unknown as WorkflowExecutionDescription));
        const row = rows.get(wf.workflowId);
        if (row && row.status !== executionStatus(wf))
          await runs.cacheStatus(tenantId, wf.workflowId, executionStatus(wf));
        rows.delete(wf.workflowId);
        if (listed.length >= limit) break;
      }
      // Runs just started that visibility does not list yet, from the run table.
      for (const row of rows.values()) {
        if (listed.length >= limit) break;
        if (options.status && row.status !== options.status) continue;
        if (Date.now() - row.createdAt.getTime() > 60_000) continue;
        listed.push({
          runId: row.workflowId,
          definitionId,
          version: row.version,
          status: row.status as RunExecutionStatus,
          trigger: row.triggerKind,
          startedBy: row.startedBy,
          startedAt: row.createdAt.toISOString(),
          closedAt: null,
        });
      }
      return listed.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    },

    /**
     * GET .../runs/:runId: status, per-step status and timing, the run's input and the document's
     * edges (a step's inputs are its upstream steps' outputs). Inputs and outputs are decoded through
     * the payload codec by this gateway's client; `data: false` (a caller whose role may not see run
     * data) leaves them out and says so in `dataHidden`.
     */
    async get(tenantId: string, definitionId: string, runId: string, options: { data: boolean } = { data: true }) {
      const { handle, description, row } = await owned(tenantId, definitionId, runId);
      const status = executionStatus(description);
      if (row && row.status !== status) await runs.cacheStatus(tenantId, runId, status);
      const run = await runStatus(handle, status);
      const original = await startInput(tenantId, handle).catch(() => undefined);
      const edges = original?.document.edges.map((e) => ({ from: e.from, to: e.to })) ?? [];
      if (!options.data) {
        const steps = run
          ? Object.fromEntries(Object.entries(run.steps).map(([id, step]) => [id, { ...step, output: undefined }]))
          : undefined;
        return {
          ...view(row, description),
          run: run && steps ? { ...run, steps } : run,
          edges,
          input: null,
          dataHidden: RUN_DATA_HIDDEN,
        };
      }
      return { ...view(row, description), run, edges, input: original?.input ?? null, dataHidden: null };
    },

    async cancel(tenantId: string, definitionId: string, runId: string) {
      const { handle, description } = await owned(tenantId, definitionId, runId);
      if (executionStatus(description) !== 'running')
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `run ${runId} is no longer running (${executionStatus(description)}); nothing to cancel`,
        );
      await handle.cancel();
      return { runId, cancelRequested: true };
    },

    /**
     * POST .../retry: a new run of the failed run's pinned version and input, reusing the outputs of
     * the steps that completed and do not depend on `fromStep`.
     */
    async retry(
      tenantId: string,
      definitionId: string,
      runId: string,
      fromStep: StepId,
      options: { idempotencyKey?: string; startedBy: string },
    ) {
      const { handle, description } = await owned(tenantId, definitionId, runId);
      const status = executionStatus(description);
      const steps = await runStatus(handle, status);
      const retryable = status !== 'running' && (status !== 'completed' || steps?.state === 'stopped');
      if (!retryable)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `run ${runId} is ${status}${steps ? ` (${steps.state})` : ''}: only a failed, cancelled or stopped run is retried; re-run a completed one`,
        );
      const original = await startInput(tenantId, handle);
      if (!original.document.steps.some((s) => s.id === fromStep))
        throw new GatewayError(
          GatewayErrorCode.badRequest,
          `fromStep: version ${original.version} of definition ${definitionId} has no step ${fromStep}`,
        );
      if (!steps)
        throw new GatewayError(
          GatewayErrorCode.unavailable,
          `the status of run ${runId} cannot be read now (no interpreter worker answered); try again`,
        );
      await refuseArchived(tenantId, definitionId);
      const rerun = downstreamOf(original.document, fromStep);
      const reuse: Record<StepId, StepOutput> = {};
      for (const [id, step] of Object.entries(steps.steps))
        if (step.state === 'completed' && !rerun.has(id) && step.output) reuse[id] = step.output;
      return startRun(
        tenantId,
        definitionId,
        {
          version: original.version,
          hash: original.hash,
          document: original.document,
          input: original.input,
          trigger: { kind: 'retry', id: runId },
          reuse,
        },
        options,
      );
    },

    /** POST .../rerun: the same version with the same input, as a new run. */
    async rerun(
      tenantId: string,
      definitionId: string,
      runId: string,
      options: { idempotencyKey?: string; startedBy: string },
    ) {
      const { handle } = await owned(tenantId, definitionId, runId);
      const original = await startInput(tenantId, handle);
      await refuseArchived(tenantId, definitionId);
      return startRun(
        tenantId,
        definitionId,
        {
          version: original.version,
          hash: original.hash,
          document: original.document,
          input: original.input,
          trigger: { kind: 'rerun', id: runId },
        },
        options,
      );
    },

    /** POST .../approve: approves (or rejects) a run's wait-for-signal step. */
    async approve(
      tenantId: string,
      definitionId: string,
      runId: string,
      body: { stepId: StepId; approved: boolean; comment?: string },
      by: string,
    ) {
      const { handle, description } = await owned(tenantId, definitionId, runId);
      if (executionStatus(description) !== 'running')
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `run ${runId} is no longer running (${executionStatus(description)}); it waits for no approval`,
        );
      const signal: ApprovalSignal = { ...body, by };
      await handle.signal(APPROVAL_SIGNAL, signal);
      return { runId, stepId: body.stepId, approved: body.approved };
    },
  };
}
export type DefinitionRunService = ReturnType<typeof createDefinitionRunService>;

/** The keyset cursor as the client sees it: opaque base64url of the last row's time and id. */
export function encodeRunCursor(c: RunCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.workflowId])).toString('base64url');
}
/** PostgreSQL's text of a timestamptz (`2026-12-03 19:40:33.123456+00`), nothing else reaches SQL. */
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2})?|Z)?$/;
function decodeRunCursor(cursor: string): RunCursor {
  try {
    const [createdAt, workflowId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof workflowId === 'string' && typeof createdAt === 'string' && PG_TIMESTAMP.test(createdAt))
      return { createdAt, workflowId };
  } catch {
    // falls through to the same answer as a well-formed but meaningless cursor
  }
  throw new GatewayError(
    GatewayErrorCode.badRequest,
    'after: not a cursor this gateway gave; pass the `next` of the previous page unchanged, or leave it out for the first page',
  );
}

/** A REST status name as Temporal's visibility spells it. */
function temporalStatusName(status: string): string {
  const names: Record<string, string> = {
    running: 'Running',
    completed: 'Completed',
    failed: 'Failed',
    cancelled: 'Canceled',
    terminated: 'Terminated',
    timed_out: 'TimedOut',
  };
  const name = names[status];
  if (!name) throw new GatewayError(GatewayErrorCode.badRequest, `status: one of ${Object.keys(names).join(', ')}`);
  return name;
}

declare module 'fastify' {
  interface FastifyInstance {
    definitionRuns: DefinitionRunService;
  }
}

export const definitionRunServicePlugin = fp<{
  temporal: Client;
  workflowTaskQueue: string;
  runs: DefinitionRunRepository;
  store?: DefinitionStore;
  runQueues?: RunQueues;
}>(
  async (app, deps) =>
    void app.decorate('definitionRuns', createDefinitionRunService({ ...deps, controlFlags: app.controlFlags })),
  { name: 'definition-run-service', fastify: '5.x', dependencies: ['control-flag-service'] },
);
