import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { Repositories } from '@vansales/metadata';
import { describedWritable, type PolicyDescribeOutputT, type TableRef } from '@vansales/protocol';
import { sitePolicyWorkflow, type SitePolicyInput } from '@vansales/workflows';
import type { WorkflowRuns } from './workflow-runs';
import { requireConnector } from './ownership';

/**
 * What a site's own policy lets the cloud do, asked of its agent (a workflow on the connector's
 * queue): writable tables and API names, names only. Definition validation calls it to say "a
 * destination not writable by the site's policy" before a run starts; the agent still checks every
 * load and request itself, so a stale answer can only refuse early, never allow.
 */
export function createSitePolicyService(deps: { repos: Repositories; workflowRuns: WorkflowRuns }) {
  const { repos, workflowRuns } = deps;
  const service = {
    /**
     * The site's policy as its agent describes it now. An unknown connector (or another tenant's) is
     * a 404; an agent offline for a minute fails as a 422 naming the timeout (see sitePolicyOptions).
     */
    async describeSitePolicy(
      tenantId: string,
      connectorId: string,
      signal?: AbortSignal,
    ): Promise<PolicyDescribeOutputT> {
      await requireConnector(repos, tenantId, connectorId);
      const handle = await workflowRuns.start(
        sitePolicyWorkflow,
        `site-policy-${connectorId}-${randomUUID()}`,
        'builtin.site-policy',
        { tenantId, connectorId } satisfies SitePolicyInput,
      );
      return workflowRuns.result<PolicyDescribeOutputT>(handle, signal);
    },
    /** Whether a load into `table` of `database` on that site would pass its policy (validation's destinationWritable). */
    async destinationWritable(
      tenantId: string,
      connectorId: string,
      database: string,
      table: TableRef,
      signal?: AbortSignal,
    ) {
      return describedWritable(await service.describeSitePolicy(tenantId, connectorId, signal), database, table);
    },
  };
  return service;
}
export type SitePolicyService = ReturnType<typeof createSitePolicyService>;

declare module 'fastify' {
  interface FastifyInstance {
    sitePolicies: SitePolicyService;
  }
}

export const sitePolicyServicePlugin = fp<{ repos: Repositories }>(
  async (app, deps) =>
    void app.decorate('sitePolicies', createSitePolicyService({ ...deps, workflowRuns: app.workflowRuns })),
  { name: 'site-policy-service', fastify: '5.x', dependencies: ['workflow-runs'] },
);
