import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { Repositories } from '@vansales/metadata';
import { agentQueryWorkflow, type AgentQueryInput, type AgentQueryOutput } from '@vansales/workflows';
import type { WorkflowRuns } from './workflow-runs';
import { requireConnector } from './ownership';

/** Read-only queries on a site database, run by the agent query workflow. */
export function createQueryService(deps: { repos: Repositories; workflowRuns: WorkflowRuns }) {
  const { repos, workflowRuns } = deps;
  return {
    /** Starts the agent query workflow; with wait, returns its result (until `signal` aborts the wait). */
    async start(tenantId: string, input: Omit<AgentQueryInput, 'tenantId'>, wait: boolean, signal?: AbortSignal) {
      await requireConnector(repos, tenantId, input.connectorId);
      const handle = await workflowRuns.start(agentQueryWorkflow, `query-${randomUUID()}`, 'builtin.agent-query', {
        ...input,
        tenantId,
      } satisfies AgentQueryInput);
      const started = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      if (!wait) return started;
      return { ...started, result: await workflowRuns.result<AgentQueryOutput>(handle, signal) };
    },
  };
}
export type QueryService = ReturnType<typeof createQueryService>;

declare module 'fastify' {
  interface FastifyInstance {
    queries: QueryService;
  }
}

export const queryServicePlugin = fp<{ repos: Repositories }>(
  async (app, deps) => void app.decorate('queries', createQueryService({ ...deps, workflowRuns: app.workflowRuns })),
  {
    name: 'query-service',
    fastify: '5.x',
    dependencies: ['workflow-runs'],
  },
);
