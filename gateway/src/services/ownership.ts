import type { Repositories } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';

/** The connector, if it is this tenant's; the same 404 for "not yours" and "does not exist", so ids cannot be probed. */
export async function requireConnector(
  repos: Pick<Repositories, 'getConnector'>,
  tenantId: string,
  connectorId: string,
) {
  const connector = await repos.getConnector(tenantId, connectorId);
  if (!connector)
    throw new GatewayError(GatewayErrorCode.notFound, `connector ${connectorId} not found in tenant ${tenantId}`);
  return connector;
}
