import type { AgentCapability } from '@vansales/protocol';
import type { GrantBufferAccess } from '../buffer-access';
import type { TaskPreparer } from './proxy-activities';

/** Which buffer access each data operation needs for its `objectId`. */
const SCOPES: Partial<Record<AgentCapability, 'read' | 'write'>> = {
  'data.extract': 'write',
  'table.watch': 'write',
  'data.load': 'read',
  'http.read': 'write',
  'http.write': 'read',
  'sync.extract': 'write',
  'sync.delete': 'read',
};

/**
 * Adds an object-scoped buffer grant to extract and load tasks as they leave for the agent. The
 * grant is bound to the connection's own tenant, so an object id of another tenant leads nowhere;
 * whatever grant an input already carries is replaced (a workflow cannot supply its own). The grant
 * names the agent session, and the buffer routes refuse it once that session has ended.
 */
export function bufferGrantPreparer(issue: GrantBufferAccess): TaskPreparer {
  return async ({ tenantId, connectorId, sessionId }, operation, input) => {
    const scope = SCOPES[operation];
    if (!scope || !input || typeof input !== 'object') return input;
    const objectId = (input as { objectId?: unknown }).objectId;
    if (typeof objectId !== 'string') return input;
    return { ...input, buffer: issue({ tenantId, connectorId, objectId, scope, sessionId }) };
  };
}
