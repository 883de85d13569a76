import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities } from '@vansales/activities';
import type { ApiFetchSpecOutputT } from '@vansales/protocol';
import { sitePolicyOptions } from './activity-options';

export interface ApiSpecFetchInput {
  tenantId: string;
  connectorId: string;
  url: string;
  /** The tenant's buffer object a specification too large for the answer goes into (the gateway reads and deletes it). */
  objectId?: string;
}

/**
 * Asks a site's agent for an API specification at a URL on the site's network (issue 11 item 1):
 * the gateway registers what it answers. Short, like the policy question: a user waits on it.
 */
export async function apiSpecFetchWorkflow(input: ApiSpecFetchInput): Promise<ApiFetchSpecOutputT> {
  // A large specification is fetched and then written to the buffer: more than the policy question's 30 s.
  const { apiFetchSpec } = proxyActivities<AgentActivities>({
    ...sitePolicyOptions(input.connectorId),
    startToCloseTimeout: '2 minutes',
  });
  return apiFetchSpec({ url: input.url, ...(input.objectId ? { objectId: input.objectId } : {}) });
}
