import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities } from '@vansales/activities';
import type { ApiFetchSpecOutputT } from '@vansales/protocol';
import { sitePolicyOptions } from './activity-options';

export interface ApiSpecFetchInput {
  tenantId: string;
  connectorId: string;
  url: string;
}

/**
 * Asks a site's agent for an API specification at a URL on the site's network (issue 11 item 1):
 * the gateway registers what it answers. Short, like the policy question: a user waits on it.
 */
export async function apiSpecFetchWorkflow(input: ApiSpecFetchInput): Promise<ApiFetchSpecOutputT> {
  const { apiFetchSpec } = proxyActivities<AgentActivities>(sitePolicyOptions(input.connectorId));
  return apiFetchSpec({ url: input.url });
}
