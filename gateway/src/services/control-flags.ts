import fp from 'fastify-plugin';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type {
  AuditRepository,
  ControlFlagRepository,
  ControlFlagRow,
  ControlFlagScope,
  ControlFlagState,
  Repositories,
} from '@vansales/metadata';
import { CONTROL_SIGNAL, DEFINITION_WORKFLOW, type ControlSignal, type DefinitionStore } from '@vansales/definitions';
import { SearchAttribute } from '@vansales/temporal-config';
import { GatewayError, GatewayErrorCode } from '../errors';
import { requireConnector } from './ownership';

/** What a new run would touch: the flags of any of these refuse it. */
export interface RunTarget {
  tenantId: string;
  definitionId: string;
  /** Every connector the definition's steps touch (connectorIdsOf). */
  connectorIds: readonly string[];
}

/** The flags that apply to a run of `target`, strongest first (a stop outranks a pause). */
export function flagsApplying(flags: readonly ControlFlagRow[], target: RunTarget): ControlFlagRow[] {
  return flags
    .filter(
      (f) =>
        f.tenantId === target.tenantId &&
        ((f.scope === 'tenant' && f.targetId === target.tenantId) ||
          (f.scope === 'definition' && f.targetId === target.definitionId) ||
          (f.scope === 'connector' && target.connectorIds.includes(f.targetId))),
    )
    .sort((a, b) => (a.state === b.state ? 0 : a.state === 'stopped' ? -1 : 1));
}

/** One sentence naming a flag, its scope, who set it and when: what a refused caller reads. */
export function describeFlag(flag: ControlFlagRow): string {
  const what = flag.state === 'stopped' ? 'emergency stop' : 'pause';
  const target = flag.scope === 'tenant' ? `tenant ${flag.targetId}` : `${flag.scope} ${flag.targetId}`;
  return `${what} of ${target} set by ${flag.setBy} at ${flag.setAt.toISOString()} (${flag.reason})`;
}

/**
 * Refuses a new run while a control flag applies to it: every trigger (REST, schedule, webhook)
 * calls this before it starts a run. Throws a 409 GatewayError whose message names the flag, its
 * scope, who set it and when, and whose details carry the flag.
 */
export async function checkRunAllowed(flags: Pick<ControlFlagRepository, 'list'>, target: RunTarget): Promise<void> {
  const applying = flagsApplying(await flags.list(target.tenantId), target);
  const flag = applying[0];
  if (!flag) return;
  throw new GatewayError(
    GatewayErrorCode.conflict,
    `definition ${target.definitionId} takes no new runs: ${describeFlag(flag)}; clear the flag (DELETE /v1/tenants/${target.tenantId}/flags) to allow them`,
    { flag: flagBody(flag) },
  );
}

export const flagBody = (f: ControlFlagRow) => ({
  scope: f.scope,
  targetId: f.targetId,
  state: f.state,
  setBy: f.setBy,
  reason: f.reason,
  setAt: f.setAt.toISOString(),
});

/** The audit chain of a tenant's flag changes (audit chains are keyed by a name unique across tenants). */
export const flagEventsChain = (tenantId: string) => `flags:${tenantId}`;

/** What running runs (and schedules) in a flag's scope are told when it changes. */
export type RunControl = ControlSignal['action'];

/** The action a run (or schedule) must follow under `flags`: stop, pause, or resume when none applies. */
export function controlFor(
  flags: readonly ControlFlagRow[],
  target: RunTarget,
): { action: RunControl; flag?: ControlFlagRow } {
  const flag = flagsApplying(flags, target)[0];
  if (!flag) return { action: 'resume' };
  return { action: flag.state === 'stopped' ? 'stop' : 'pause', flag };
}

/** Schedules follow the flags too (they start runs without the gateway); see definition-schedules.ts. */
export interface FlagFollower {
  applyFlags(tenantId: string, flags: readonly ControlFlagRow[], by: string): Promise<void>;
}

/**
 * Control flags (issue 10 item 6): pause, resume and emergency stop per definition, connector or
 * tenant. A change is stored, audited with its actor, then reaches what is already running: runs in
 * its scope (found in Temporal's visibility by TenantId / DefinitionId / ConnectorIds) get the control
 * signal, and schedules in its scope are paused or unpaused.
 */
export function createControlFlagService(deps: {
  flags: ControlFlagRepository;
  auditRepo: AuditRepository;
  repos: Repositories;
  temporal: Client;
  store?: DefinitionStore;
  followers?: FlagFollower[];
}) {
  const { flags, auditRepo, repos, temporal } = deps;
  const followers = deps.followers ?? [];

  const requireTarget = async (tenantId: string, scope: ControlFlagScope, targetId: string) => {
    // A flag of a tenant that does not exist would sit in the table and the audit for nobody.
    if (!(await repos.getTenant(tenantId)))
      throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} not found`);
    if (scope === 'tenant') {
      if (targetId !== tenantId)
        throw new GatewayError(
          GatewayErrorCode.badRequest,
          `a tenant flag's targetId is the tenant itself (${tenantId}), not ${targetId}`,
        );
      return;
    }
    if (scope === 'connector') return void (await requireConnector(repos, tenantId, targetId));
    const store = deps.store;
    if (!store) return;
    const known =
      (await store.published(tenantId, targetId)) ??
      (await store.version(tenantId, targetId, 1)) ??
      (await store.archived?.(tenantId, targetId));
    if (!known)
      throw new GatewayError(GatewayErrorCode.notFound, `definition ${targetId} not found in tenant ${tenantId}`);
  };

  const audit = (tenantId: string, operation: string, by: string, scope: ControlFlagScope, targetId: string) =>
    auditRepo.append({
      tenantId,
      connectorId: flagEventsChain(tenantId),
      // Audit actors name a workflow context; an operator's change names the control plane and who.
      actor: { workflowId: 'operator', runId: 'control-plane', activityId: by.slice(0, 256), attempt: 1 },
      operation: `${operation}.${scope}:${targetId}`.slice(0, 128),
      outcome: 'ok',
      durationMs: 0,
    });

  /** Runs of the tenant that the changed flag's scope covers, with what they touch. */
  async function runningInScope(tenantId: string, scope: ControlFlagScope, targetId: string) {
    // Ids are validated slugs (no quote can reach the query); see the route schemas.
    const clauses = [
      `WorkflowType = '${DEFINITION_WORKFLOW}'`,
      `ExecutionStatus = 'Running'`,
      `TenantId = '${tenantId}'`,
    ];
    if (scope === 'definition') clauses.push(`DefinitionId = '${targetId}'`);
    if (scope === 'connector') clauses.push(`ConnectorIds = '${targetId}'`);
    const runs: { workflowId: string; target: RunTarget }[] = [];
    for await (const wf of temporal.workflow.list({ query: clauses.join(' AND ') })) {
      runs.push({
        workflowId: wf.workflowId,
        target: {
          tenantId,
          definitionId: wf.typedSearchAttributes.get(SearchAttribute.DefinitionId) ?? '',
          connectorIds: wf.typedSearchAttributes.get(SearchAttribute.ConnectorIds) ?? [],
        },
      });
    }
    return runs;
  }

  /** Tells each running run in the scope what the flags now say for it. */
  async function signalRuns(tenantId: string, scope: ControlFlagScope, targetId: string, by: string) {
    const now = await flags.list(tenantId);
    const runs = await runningInScope(tenantId, scope, targetId);
    await Promise.all(
      runs.map(async (run) => {
        const { action, flag } = controlFor(now, run.target);
        const signal: ControlSignal = { action, scope: flag?.scope ?? scope, by };
        await temporal.workflow
          .getHandle(run.workflowId)
          .signal(CONTROL_SIGNAL, signal)
          .catch((err: unknown) => {
            // It ended between the listing and the signal: nothing left to tell.
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
      }),
    );
    for (const follower of followers) await follower.applyFlags(tenantId, now, by);
    return runs.length;
  }

  return {
    async list(tenantId: string) {
      return (await flags.list(tenantId)).map(flagBody);
    },

    async set(
      tenantId: string,
      input: { scope: ControlFlagScope; targetId: string; state: ControlFlagState; reason: string },
      by: string,
    ) {
      await requireTarget(tenantId, input.scope, input.targetId);
      const { flag } = await flags.set({ tenantId, ...input, setBy: by });
      await audit(tenantId, input.state === 'stopped' ? 'flag.stop' : 'flag.pause', by, input.scope, input.targetId);
      const signalled = await signalRuns(tenantId, input.scope, input.targetId, by);
      return { flag: flagBody(flag), runsSignalled: signalled };
    },

    async clear(tenantId: string, scope: ControlFlagScope, targetId: string, by: string) {
      const removed = await flags.clear(tenantId, scope, targetId);
      if (!removed)
        throw new GatewayError(GatewayErrorCode.notFound, `no ${scope} flag on ${targetId} in tenant ${tenantId}`);
      await audit(tenantId, 'flag.clear', by, scope, targetId);
      const signalled = await signalRuns(tenantId, scope, targetId, by);
      return { cleared: flagBody(removed), runsSignalled: signalled };
    },

    /** See checkRunAllowed. */
    checkRunAllowed: (target: RunTarget) => checkRunAllowed(flags, target),

    /**
     * A run that started while a flag was being set may have been missed by the flag's signal: the
     * starter calls this after the start, and the run is told what the flags say now.
     */
    async recheckStarted(workflowId: string, target: RunTarget, by: string) {
      const { action, flag } = controlFor(await flags.list(target.tenantId), target);
      if (action === 'resume' || !flag) return;
      await temporal.workflow
        .getHandle(workflowId)
        .signal(CONTROL_SIGNAL, { action, scope: flag.scope, by } satisfies ControlSignal);
    },
  };
}
export type ControlFlagService = ReturnType<typeof createControlFlagService>;

declare module 'fastify' {
  interface FastifyInstance {
    controlFlags: ControlFlagService;
  }
}

export const controlFlagServicePlugin = fp<{
  flags: ControlFlagRepository;
  auditRepo: AuditRepository;
  repos: Repositories;
  temporal: Client;
  store?: DefinitionStore;
  followers?: FlagFollower[];
}>(async (app, deps) => void app.decorate('controlFlags', createControlFlagService(deps)), {
  name: 'control-flag-service',
  fastify: '5.x',
});
