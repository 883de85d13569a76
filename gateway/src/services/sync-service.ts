import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { Repositories } from '@vansales/metadata';
import {
  dataSyncWorkflow,
  runSyncNowSignal,
  syncStateQuery,
  type DataSyncInput,
  type SyncState,
} from '@vansales/workflows';
import { WorkflowNotFoundError } from '@temporalio/client';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { WorkflowRuns } from './workflow-runs';
import { requireConnector } from './ownership';

/** Data syncs: started here, then run by the data sync workflow; status and "run now" for their own tenant only. */
export function createSyncService(deps: { repos: Repositories; workflowRuns: WorkflowRuns; cloudTaskQueue?: string }) {
  const { repos, workflowRuns } = deps;
  const own = (tenantId: string, workflowId: string) =>
    workflowRuns.owned(tenantId, workflowId, dataSyncWorkflow, 'sync');
  return {
    /** Starts a data sync; every connector it names must belong to the tenant. */
    async start(tenantId: string, input: Omit<DataSyncInput, 'tenantId' | 'state' | 'cloudTaskQueue'>) {
      for (const end of [input.source, input.destination])
        if (end.placement === 'connector') await requireConnector(repos, tenantId, end.connectorId);
      const connectorId =
        input.source.placement === 'connector'
          ? input.source.connectorId
          : input.destination.placement === 'connector'
            ? input.destination.connectorId
            : 'cloud';
      const handle = await workflowRuns.start(dataSyncWorkflow, `sync-${randomUUID()}`, 'builtin.data-sync', {
        ...input,
        tenantId,
        connectorId,
        cloudTaskQueue: deps.cloudTaskQueue,
      });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    },

    /** A sync's status and state (cursors, rows). */
    async status(tenantId: string, workflowId: string) {
      const { handle, description } = await own(tenantId, workflowId);
      const state =
        description.status.name === 'RUNNING'
          ? await handle.query(syncStateQuery)
          : ((await workflowRuns.result<SyncState>(handle).catch(() => undefined)) ?? null);
      return { workflowId, status: description.status.name, state };
    },

    /** Starts a sync's next run now instead of at the end of its interval. */
    async runNow(tenantId: string, workflowId: string) {
      const { handle, description } = await own(tenantId, workflowId);
      // A finished sync takes no signal (Temporal refuses it with NotFound, which was a 500 here).
      const finished = () =>
        new GatewayError(
          GatewayErrorCode.conflict,
          `sync ${workflowId} is no longer running (${description.status.name}); start a new sync instead`,
          { status: description.status.name },
        );
      if (description.status.name !== 'RUNNING') throw finished();
      try {
        await handle.signal(runSyncNowSignal);
      } catch (err) {
        // It ended between the look-up and the signal.
        if (err instanceof WorkflowNotFoundError) throw finished();
        throw err;
      }
      return { workflowId, signalled: true };
    },
  };
}
export type SyncService = ReturnType<typeof createSyncService>;

declare module 'fastify' {
  interface FastifyInstance {
    syncs: SyncService;
  }
}

export const syncServicePlugin = fp<{ repos: Repositories; cloudTaskQueue?: string }>(
  async (app, deps) => void app.decorate('syncs', createSyncService({ ...deps, workflowRuns: app.workflowRuns })),
  { name: 'sync-service', fastify: '5.x', dependencies: ['workflow-runs'] },
);
