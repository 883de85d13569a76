import type { AgentCapability, BufferGrant } from '@vansales/protocol';
import type { TaskPreparer } from './proxy-activities';

export type GrantIssuer = (request: { tenantId: string; connectorId: string; objectId: string; scope: 'read' | 'write' }) => Promise<BufferGrant> | BufferGrant;

/** Which buffer access each data operation needs for its `objectId`. */
const SCOPES: Partial<Record<AgentCapability, 'read' | 'write'>> = { 'data.extract': 'write', 'data.load': 'read' };

/**
 * Adds an object-scoped buffer grant to extract and load tasks as they leave for the agent. The
 * grant is bound to the connection's own tenant, so an object id of another tenant leads nowhere;
 * whatever grant an input already carries is replaced (a workflow cannot supply its own).
 */
export function bufferGrantPreparer(issue: GrantIssuer): TaskPreparer {
  return async ({ tenantId, connectorId }, operation, input) => {
    const scope = SCOPES[operation];
    if (!scope || !input || typeof input !== 'object') return input;
    const objectId = (input as { objectId?: unknown }).objectId;
    if (typeof objectId !== 'string') return input;
    return { ...input, buffer: await issue({ tenantId, connectorId, objectId, scope }) };
  };
}
