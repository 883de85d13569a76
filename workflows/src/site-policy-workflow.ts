import { proxyActivities } from '@temporalio/workflow';
import type { AgentActivities } from '@vansales/activities';
import type { PolicyDescribeOutputT } from '@vansales/protocol';
import { sitePolicyOptions } from './activity-options';

export interface SitePolicyInput {
  tenantId: string;
  connectorId: string;
}

/**
 * Asks a site's agent what its policy lets the cloud do (writable tables, API names; names only),
 * for definition validation's "destination not writable by the site's policy".
 */
export async function sitePolicyWorkflow(input: SitePolicyInput): Promise<PolicyDescribeOutputT> {
  const { sitePolicyDescribe } = proxyActivities<AgentActivities>(sitePolicyOptions(input.connectorId));
  return sitePolicyDescribe();
}
