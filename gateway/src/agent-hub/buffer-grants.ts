import type { AgentCapability } from '@vansales/protocol';
import type { GrantBufferAccess } from '../buffer-access';
import type { TaskPreparer } from './proxy-activities';

/** One buffer object a task names: where its id is in the input, the access it needs, where its grant goes. */
interface ObjectAccess {
  /** Path of the object id in the task's input. */
  field: readonly string[];
  scope: 'read' | 'write';
  /** The input key the grant is set on. */
  grant: string;
}

const one = (scope: 'read' | 'write'): readonly ObjectAccess[] => [{ field: ['objectId'], scope, grant: 'buffer' }];

/** Which buffer objects each data operation names, and the access it needs to each. */
export const OBJECT_ACCESS: Partial<Record<AgentCapability, readonly ObjectAccess[]>> = {
  'data.extract': one('write'),
  'table.watch': one('write'),
  'data.load': one('read'),
  'http.read': one('write'),
  'http.write': one('read'),
  'sync.extract': one('write'),
  'sync.delete': one('read'),
  // A specification too large for the answer goes into the object the gateway named (claim-check).
  'api.fetch-spec': one('write'),
  'data.transform': [
    { field: ['inputs', 'left'], scope: 'read', grant: 'leftBuffer' },
    { field: ['inputs', 'right'], scope: 'read', grant: 'rightBuffer' },
    { field: ['outputObjectId'], scope: 'write', grant: 'outputBuffer' },
    // A retry reads back what an earlier attempt committed (its answer lost on the way).
    { field: ['outputObjectId'], scope: 'read', grant: 'outputReadBuffer' },
  ],
};

const at = (input: object, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), input);

/**
 * Adds an object-scoped buffer grant per object a data task names as it leaves for the agent. The
 * grant is bound to the connection's own tenant, so an object id of another tenant leads nowhere;
 * whatever grant an input already carries is replaced or removed (a workflow cannot supply its own).
 * The grant names the agent session, and the buffer routes refuse it once that session has ended.
 */
export function bufferGrantPreparer(issue: GrantBufferAccess): TaskPreparer {
  return async ({ tenantId, connectorId, sessionId }, operation, input) => {
    const objects = OBJECT_ACCESS[operation];
    if (!objects || !input || typeof input !== 'object') return input;
    const prepared: Record<string, unknown> = { ...input };
    for (const { field, scope, grant } of objects) {
      delete prepared[grant];
      const objectId = at(input, field);
      if (typeof objectId === 'string') prepared[grant] = issue({ tenantId, connectorId, objectId, scope, sessionId });
    }
    return prepared;
  };
}
