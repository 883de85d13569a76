import fp from 'fastify-plugin';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ControlFlagRepository, ControlFlagRow } from '@vansales/metadata';
import {
  CONTROL_SIGNAL,
  connectorIdsOf,
  MAX_SITE_EVENT_WATCHERS,
  SITE_EVENT_WATCHER_WORKFLOW,
  siteEventWatcherId,
  WATCHER_PUBLISH_SIGNAL,
  WATCHER_STATUS_QUERY,
  type ControlSignal,
  type DefinitionVersion,
  type SiteEventWatcherInput,
  type SiteEventWatcherPublish,
  type SiteEventWatcherStatus,
} from '@vansales/definitions';
import { SearchAttribute } from '@vansales/temporal-config';
import { controlFor, type FlagFollower } from './control-flags';
import type { RunQueues } from './run-queues';

/**
 * A published definition's `site-event` triggers as watcher workflows (issue 10 item 4), one per
 * trigger, the way definition-schedules.ts makes its schedule triggers Temporal Schedules. A publish
 * signals-with-start each watcher with the new version (a running one keeps its position), and
 * ends the watchers of triggers the version no longer has; an archive ends them all. Control flags
 * reach them as they reach runs: the watcher holds (no new run, position kept) while one applies.
 */
export function createSiteEventWatchers(deps: {
  temporal: Client;
  workflowTaskQueue: string;
  runQueues?: RunQueues;
  flags: Pick<ControlFlagRepository, 'list'>;
}) {
  const { temporal, workflowTaskQueue, flags } = deps;

  /** Ends the watchers of triggers `from` and up (ids are by trigger number: no listing, no visibility lag). */
  async function end(tenantId: string, definitionId: string, from: number, reason: string) {
    for (let n = from; n < MAX_SITE_EVENT_WATCHERS; n++) {
      await temporal.workflow
        .getHandle(siteEventWatcherId(tenantId, definitionId, n))
        .terminate(reason)
        .catch((err: unknown) => {
          // Never started, or already ended.
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
    }
  }

  /** Running watchers of a tenant, from Temporal's visibility (ids are validated slugs: no quote reaches the query). */
  async function running(tenantId: string) {
    const found: { workflowId: string; definitionId: string; connectorIds: string[] }[] = [];
    const query = `WorkflowType = '${SITE_EVENT_WATCHER_WORKFLOW}' AND ExecutionStatus = 'Running' AND TenantId = '${tenantId}'`;
    for await (const wf of temporal.workflow.list({ query }))
      found.push({
        workflowId: wf.workflowId,
        definitionId: wf.typedSearchAttributes.get(SearchAttribute.DefinitionId) ?? '',
        connectorIds: wf.typedSearchAttributes.get(SearchAttribute.ConnectorIds) ?? [],
      });
    return found;
  }

  return {
    /** Makes the watchers match a newly published version. */
    async published(version: DefinitionVersion): Promise<string[]> {
      const { tenantId, definitionId, document } = version;
      const count = document.triggers.filter((t) => t.kind === 'site-event').length;
      const connectorIds = connectorIdsOf(document);
      const { action } = controlFor(await flags.list(tenantId), { tenantId, definitionId, connectorIds });
      const publish: SiteEventWatcherPublish = {
        version: version.version,
        hash: version.hash,
        document,
        ...deps.runQueues,
      };
      const ids: string[] = [];
      for (let n = 0; n < count; n++) {
        const workflowId = siteEventWatcherId(tenantId, definitionId, n);
        const input: SiteEventWatcherInput = {
          tenantId,
          definitionId,
          trigger: n,
          ...publish,
          ...(action === 'resume' ? {} : { control: action }),
        };
        // A running watcher gets the new version as a signal (and keeps its position); none running starts.
        await temporal.workflow.signalWithStart(SITE_EVENT_WATCHER_WORKFLOW, {
          workflowId,
          taskQueue: workflowTaskQueue,
          args: [input],
          signal: WATCHER_PUBLISH_SIGNAL,
          signalArgs: [publish],
          typedSearchAttributes: [
            { key: SearchAttribute.TenantId, value: tenantId },
            { key: SearchAttribute.DefinitionId, value: definitionId },
            { key: SearchAttribute.ConnectorIds, value: connectorIds },
          ],
        });
        ids.push(workflowId);
      }
      await end(
        tenantId,
        definitionId,
        count,
        `definition ${definitionId} v${version.version} has no such site-event trigger`,
      );
      return ids;
    },

    /** An archived definition watches nothing (runs already started go on). */
    async archived(tenantId: string, definitionId: string): Promise<void> {
      await end(tenantId, definitionId, 0, `definition ${definitionId} was archived`);
    },

    /** The watchers of a definition and their state (the status query). */
    async list(tenantId: string, definitionId: string) {
      const out: (SiteEventWatcherStatus & { watcherId: string })[] = [];
      for (const w of await running(tenantId)) {
        if (w.definitionId !== definitionId) continue;
        const status = await temporal.workflow
          .getHandle(w.workflowId)
          .query<SiteEventWatcherStatus>(WATCHER_STATUS_QUERY);
        out.push({ watcherId: w.workflowId, ...status });
      }
      return out.sort((a, b) => a.watcherId.localeCompare(b.watcherId));
    },

    /** FlagFollower: each watcher in a flag's scope is told to hold (pause, stop) or to go on (resume). */
    async applyFlags(tenantId: string, now: readonly ControlFlagRow[], by: string): Promise<void> {
      for (const w of await running(tenantId)) {
        const { action, flag } = controlFor(now, {
          tenantId,
          definitionId: w.definitionId,
          connectorIds: w.connectorIds,
        });
        const signal: ControlSignal = { action, scope: flag?.scope ?? 'tenant', by };
        await temporal.workflow
          .getHandle(w.workflowId)
          .signal(CONTROL_SIGNAL, signal)
          .catch((err: unknown) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
      }
    },
  } satisfies FlagFollower & Record<string, unknown>;
}
export type SiteEventWatchers = ReturnType<typeof createSiteEventWatchers>;

declare module 'fastify' {
  interface FastifyInstance {
    siteEventWatchers: SiteEventWatchers;
  }
}

export const siteEventWatchersPlugin = fp<{ watchers: SiteEventWatchers }>(
  async (app, deps) => void app.decorate('siteEventWatchers', deps.watchers),
  { name: 'site-event-watchers', fastify: '5.x' },
);
