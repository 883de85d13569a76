import fp from 'fastify-plugin';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
  type Workflow,
} from '@temporalio/client';
import type { ControlFlagRepository, ControlFlagRow } from '@vansales/metadata';
import {
  connectorIdsOf,
  DEFINITION_WORKFLOW,
  definitionRunWorkflowId,
  type DefinitionRunInput,
  type DefinitionVersion,
  type Trigger,
} from '@vansales/definitions';
import { SearchAttribute } from '@vansales/temporal-config';
import { GatewayError, GatewayErrorCode } from '../errors';
import { controlFor, describeFlag, type FlagFollower } from './control-flags';
import type { RunQueues } from './run-queues';

type ScheduleTrigger = Extract<Trigger, { kind: 'schedule' }>;

/**
 * The document's overlap policy, mapped one to one (no default: a document must say, and a new
 * value in the model fails to compile here instead of silently becoming Temporal's SKIP).
 */
export const OVERLAP_POLICY: Record<ScheduleTrigger['overlap'], ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

/** A note on schedules paused by a control flag: only those are unpaused when the flags clear. */
const FLAG_NOTE = 'control flag: ';

/** Schedule id of the n-th schedule trigger (0-based) of a definition. */
export const definitionScheduleId = (tenantId: string, definitionId: string, n: number) =>
  `defsched-${tenantId}-${definitionId}-${n}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** A model Duration (`30s`, `5m`, `1d`) in milliseconds. */
export function durationMs(duration: string): number {
  const match = /^(\d{1,6})(ms|s|m|h|d)$/.exec(duration);
  if (!match) throw new GatewayError(GatewayErrorCode.badRequest, `not a duration: ${duration}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** Temporal's schedule spec of a trigger: a cron in its time zone, or an interval. */
export function scheduleSpecOf(trigger: ScheduleTrigger): ScheduleSpec {
  if (trigger.cron) return { cronExpressions: [trigger.cron], timezone: trigger.timezone };
  if (trigger.every) return { intervals: [{ every: durationMs(trigger.every) }] };
  throw new GatewayError(GatewayErrorCode.badRequest, 'a schedule trigger needs a cron or an interval (every)');
}

/**
 * A published definition's `schedule` triggers as Temporal Schedules (issue 10 item 4). Each starts
 * the interpreter on the pinned version with the document's catch-up window and overlap policy. A
 * schedule is paused while a control flag applies to its definition (schedules start runs without
 * the gateway, so they cannot be refused one by one), and by hand through REST.
 */
export function createDefinitionSchedules(deps: {
  temporal: Client;
  workflowTaskQueue: string;
  flags: Pick<ControlFlagRepository, 'list'>;
  runQueues?: RunQueues;
}) {
  const { temporal, workflowTaskQueue, flags } = deps;

  /** The schedules of one tenant (optionally one definition), read from their own search attributes. */
  async function schedulesOf(tenantId: string, definitionId?: string) {
    const found: { scheduleId: string; definitionId: string; connectorIds: string[] }[] = [];
    // Visibility filters by the schedules' own search attributes (ids are checked by the routes'
    // schemas before they get here); the checks below stay, as the query is only an index.
    const query = [`TenantId = '${tenantId}'`, ...(definitionId ? [`DefinitionId = '${definitionId}'`] : [])].join(
      ' AND ',
    );
    for await (const s of temporal.schedule.list({ query })) {
      const attrs = s.typedSearchAttributes;
      if (!attrs || attrs.get(SearchAttribute.TenantId) !== tenantId) continue;
      const def = attrs.get(SearchAttribute.DefinitionId);
      if (!def || (definitionId && def !== definitionId)) continue;
      found.push({
        scheduleId: s.scheduleId,
        definitionId: def,
        connectorIds: attrs.get(SearchAttribute.ConnectorIds) ?? [],
      });
    }
    return found;
  }

  async function requireOwn(tenantId: string, definitionId: string, scheduleId: string) {
    const handle = temporal.schedule.getHandle(scheduleId);
    const description = await handle.describe().catch((err: unknown) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    });
    const attrs = description?.typedSearchAttributes;
    if (
      !description ||
      attrs?.get(SearchAttribute.TenantId) !== tenantId ||
      attrs?.get(SearchAttribute.DefinitionId) !== definitionId
    )
      throw new GatewayError(
        GatewayErrorCode.notFound,
        `schedule ${scheduleId} not found for definition ${definitionId} in tenant ${tenantId}`,
      );
    return { handle, description };
  }

  async function remove(scheduleId: string) {
    await temporal.schedule
      .getHandle(scheduleId)
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }

  return {
    /**
     * Makes the schedules match a newly published version: one per schedule trigger, created or
     * replaced, and the ones of triggers the version no longer has removed.
     */
    async published(version: DefinitionVersion): Promise<string[]> {
      const { tenantId, definitionId, document } = version;
      const connectorIds = connectorIdsOf(document);
      const target = { tenantId, definitionId, connectorIds };
      const { action: control, flag } = controlFor(await flags.list(tenantId), target);
      const triggers = document.triggers.filter((t): t is ScheduleTrigger => t.kind === 'schedule');
      const ids: string[] = [];
      for (const [n, trigger] of triggers.entries()) {
        const scheduleId = definitionScheduleId(tenantId, definitionId, n);
        const input: DefinitionRunInput = {
          tenantId,
          definitionId,
          version: version.version,
          hash: version.hash,
          document,
          trigger: { kind: 'schedule', id: scheduleId },
          ...deps.runQueues,
        };
        const searchAttributes = [
          { key: SearchAttribute.TenantId, value: tenantId },
          { key: SearchAttribute.DefinitionId, value: definitionId },
          { key: SearchAttribute.DefinitionVersion, value: version.version },
          { key: SearchAttribute.ConnectorIds, value: connectorIds },
        ];
        const action = {
          type: 'startWorkflow',
          workflowType: DEFINITION_WORKFLOW,
          taskQueue: workflowTaskQueue,
          // Temporal appends the scheduled time to it: each run has its own id with the tenant first.
          workflowId: definitionRunWorkflowId(tenantId, definitionId, `s${n}`),
          args: [input],
          typedSearchAttributes: searchAttributes,
        } as unknown as ScheduleOptionsStartWorkflowAction<Workflow>;
        const options = {
          scheduleId,
          spec: scheduleSpecOf(trigger),
          action,
          // Both explicit: Temporal's default catch-up window is a year.
          policies: { overlap: OVERLAP_POLICY[trigger.overlap], catchupWindow: durationMs(trigger.catchupWindow) },
          state:
            control === 'resume' || !flag
              ? { paused: false }
              : { paused: true, note: `${FLAG_NOTE}${describeFlag(flag)}` },
          typedSearchAttributes: searchAttributes.filter((a) => a.key !== SearchAttribute.DefinitionVersion),
        };
        try {
          await temporal.schedule.create(options);
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
          // A new version replaces the schedule's action, spec and policies; deleting and creating
          // again avoids reading the old action's arguments (an older payload key may be retired).
          await remove(scheduleId);
          await temporal.schedule.create(options);
        }
        ids.push(scheduleId);
      }
      for (const old of await schedulesOf(tenantId, definitionId))
        if (!ids.includes(old.scheduleId)) await remove(old.scheduleId);
      return ids;
    },

    /** An archived definition keeps no schedule. */
    async archived(tenantId: string, definitionId: string): Promise<void> {
      for (const s of await schedulesOf(tenantId, definitionId)) await remove(s.scheduleId);
    },

    async list(tenantId: string, definitionId: string) {
      const out = [];
      for (const s of await schedulesOf(tenantId, definitionId)) {
        const d = await temporal.schedule.getHandle(s.scheduleId).describe();
        out.push({
          scheduleId: s.scheduleId,
          paused: d.state.paused,
          note: d.state.note ?? null,
          overlap: d.policies.overlap,
          catchupWindowMs: d.policies.catchupWindow,
          nextRunTimes: d.info.nextActionTimes.slice(0, 10).map((t) => t.toISOString()),
          recentRuns: d.info.recentActions.slice(-10).map((a) => ({
            scheduledAt: a.scheduledAt.toISOString(),
            workflowId: a.action.workflow.workflowId,
          })),
        });
      }
      return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
    },

    async pause(tenantId: string, definitionId: string, scheduleId: string, by: string) {
      const { handle } = await requireOwn(tenantId, definitionId, scheduleId);
      await handle.pause(`paused by ${by}`);
      return { scheduleId, paused: true };
    },

    /** Unpauses a schedule unless a control flag still holds it (409 naming the flag). */
    async resume(tenantId: string, definitionId: string, scheduleId: string, by: string) {
      const { handle, description } = await requireOwn(tenantId, definitionId, scheduleId);
      const connectorIds = description.typedSearchAttributes.get(SearchAttribute.ConnectorIds) ?? [];
      const { flag } = controlFor(await flags.list(tenantId), { tenantId, definitionId, connectorIds });
      if (flag)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `schedule ${scheduleId} stays paused while a control flag applies: ${describeFlag(flag)}`,
        );
      await handle.unpause(`resumed by ${by}`);
      return { scheduleId, paused: false };
    },

    /** FlagFollower: schedules in a flag's scope pause with it and resume when no flag applies. */
    async applyFlags(tenantId: string, now: readonly ControlFlagRow[], by: string): Promise<void> {
      for (const s of await schedulesOf(tenantId)) {
        const { flag } = controlFor(now, { tenantId, definitionId: s.definitionId, connectorIds: s.connectorIds });
        const handle = temporal.schedule.getHandle(s.scheduleId);
        const { state } = await handle.describe();
        if (flag) {
          const note = `${FLAG_NOTE}${describeFlag(flag)}`;
          if (!state.paused || state.note !== note) await handle.pause(note);
        } else if (state.paused && state.note?.startsWith(FLAG_NOTE)) {
          // Only what a flag paused; a schedule paused by hand stays paused.
          await handle.unpause(`control flags cleared by ${by}`);
        }
      }
    },
  } satisfies FlagFollower & Record<string, unknown>;
}
export type DefinitionSchedules = ReturnType<typeof createDefinitionSchedules>;

declare module 'fastify' {
  interface FastifyInstance {
    definitionSchedules: DefinitionSchedules;
  }
}

export const definitionSchedulesPlugin = fp<{ schedules: DefinitionSchedules }>(
  async (app, deps) => void app.decorate('definitionSchedules', deps.schedules),
  { name: 'definition-schedules', fastify: '5.x' },
);
