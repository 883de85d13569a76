import { randomUUID } from 'node:crypto';
import type { Repositories } from '@vansales/metadata';
import type { ApiFetchSpecOutputT } from '@vansales/protocol';
import { apiSpecFetchWorkflow, type ApiSpecFetchInput } from '@vansales/workflows';
import type { SiteSpecFetch } from './api-service';
import { requireConnector } from './ownership';
import type { WorkflowRuns } from './workflow-runs';

/**
 * A specification on a site's network, fetched by that site's agent (a workflow on the connector's
 * queue, like the policy question): the agent refuses a URL its site does not allow, and a refusal
 * or an offline agent is a 422 naming why. Another tenant's connector is a 404.
 */
export function createSiteSpecFetch(deps: { repos: Repositories; workflowRuns: WorkflowRuns }): SiteSpecFetch {
  return async (tenantId, connectorId, url) => {
    await requireConnector(deps.repos, tenantId, connectorId);
    const handle = await deps.workflowRuns.start(
      apiSpecFetchWorkflow,
      `api-spec-fetch-${connectorId}-${randomUUID()}`,
      'builtin.api-spec-fetch',
      { tenantId, connectorId, url } satisfies ApiSpecFetchInput,
    );
    const fetched = await deps.workflowRuns.result<ApiFetchSpecOutputT>(handle);
    return { text: fetched.text, contentType: fetched.contentType, sourceUrl: fetched.sourceUrl };
  };
}
