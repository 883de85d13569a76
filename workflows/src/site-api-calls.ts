import type { AgentActivities, CloudActivities } from '@vansales/activities';

type CloudHttpRead = Parameters<CloudActivities['httpRead']>[0]['request'];
type CloudHttpWrite = Parameters<CloudActivities['httpWrite']>[0]['request'];
type DatasetRef = Awaited<ReturnType<CloudActivities['httpRead']>>;
type SiteApi = Extract<CloudHttpRead['endpoint'], { kind: 'site-api' }>;

/**
 * A site API is called by that site's agent (`http.read` / `http.write`), never by a cloud activity:
 * the task names the policy's API and a path, the agent resolves the URL and attaches the vault's
 * credential, the gateway adds the object-scoped buffer grant. The one translation from a step's
 * `http` settings to those operations, shared by the HTTP step workflows and the interpreter.
 */
export async function readSiteApi(
  agent: Pick<AgentActivities, 'siteHttpRead'>,
  request: CloudHttpRead & { endpoint: SiteApi },
  objectId: string,
  /** The step, named in the call audit of an API operation (replay-safe: activity inputs are not compared). */
  step: string,
): Promise<DatasetRef> {
  const { endpoint, ...rest } = request;
  const read = await agent.siteHttpRead({ api: endpoint.api, ...rest, objectId, step });
  return { objectId, rows: read.rowCount, columns: read.columns, writtenBy: { connectorId: endpoint.connectorId } };
}

/** A dataset to a site API, per record or batch, by that site's agent. */
export function writeSiteApi(
  agent: Pick<AgentActivities, 'siteHttpWrite'>,
  request: CloudHttpWrite & { endpoint: SiteApi },
  input: DatasetRef,
  step: string,
): ReturnType<AgentActivities['siteHttpWrite']> {
  const { endpoint, ...rest } = request;
  return agent.siteHttpWrite({ api: endpoint.api, ...rest, objectId: input.objectId, step });
}

/** Narrows a step's `http` settings to a site API's. */
export function onSiteApi<R extends { endpoint?: { kind: string } }>(request: R): request is R & { endpoint: SiteApi } {
  return request.endpoint?.kind === 'site-api';
}
