import { proxyActivities, uuid4 } from '@temporalio/workflow';
import type { AgentActivities, CloudActivities } from '@vansales/activities';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { dataOptions } from './activity-options';
import { onSiteApi, readSiteApi, writeSiteApi } from './site-api-calls';

type CloudHttpRead = Parameters<CloudActivities['httpRead']>[0];
type CloudHttpWrite = Parameters<CloudActivities['httpWrite']>[0];
type DatasetRef = Awaited<ReturnType<CloudActivities['httpRead']>>;

interface StepPlacement {
  /** Task queue of cloud activities (default `cloud`). */
  cloudTaskQueue?: string;
  maxOfflineSeconds?: number;
  heartbeatTimeoutSeconds?: number;
}

export interface HttpReadStepInput extends StepPlacement {
  tenantId: string;
  /** A definition's source `http` settings: an internet API read by the cloud, or a site API by its agent. */
  request: CloudHttpRead['request'];
}

export interface HttpWriteStepInput extends StepPlacement {
  tenantId: string;
  request: CloudHttpWrite['request'];
  /** The dataset to send (a reference another step returned). */
  input: DatasetRef;
}

const options = (input: StepPlacement) => ({
  maxOfflineSeconds: input.maxOfflineSeconds,
  heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds,
});

/**
 * One HTTP read into the buffer, as a step of its own (the interpreter calls the same activities):
 * a `site-api` endpoint is read by that site's agent and nothing but the dataset leaves the site;
 * an `http` endpoint is read by the cloud through its egress guard.
 */
export async function httpReadStepWorkflow(input: HttpReadStepInput): Promise<DatasetRef> {
  const objectId = uuid4().replace(/-/g, '');
  const request = input.request;
  if (onSiteApi(request)) {
    const agent = proxyActivities<AgentActivities>(
      dataOptions(connectorTaskQueue(request.endpoint.connectorId), options(input)),
    );
    return readSiteApi(agent, request, objectId, 'http-read');
  }
  const cloud = proxyActivities<CloudActivities>(dataOptions(input.cloudTaskQueue ?? 'cloud', options(input)));
  return cloud.httpRead({
    tenantId: input.tenantId,
    step: 'http-read',
    request: input.request,
    outputObjectId: objectId,
  });
}

/** One dataset sent to an API, per record or batch, as a step of its own. */
export async function httpWriteStepWorkflow(
  input: HttpWriteStepInput,
): Promise<Awaited<ReturnType<CloudActivities['httpWrite']>>> {
  const request = input.request;
  if (onSiteApi(request)) {
    const agent = proxyActivities<AgentActivities>(
      dataOptions(connectorTaskQueue(request.endpoint.connectorId), options(input)),
    );
    return writeSiteApi(agent, request, input.input, 'http-write');
  }
  const cloud = proxyActivities<CloudActivities>(dataOptions(input.cloudTaskQueue ?? 'cloud', options(input)));
  return cloud.httpWrite({ tenantId: input.tenantId, step: 'http-write', request: input.request, input: input.input });
}
