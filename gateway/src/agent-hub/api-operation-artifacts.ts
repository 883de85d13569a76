import { ApplicationFailure } from '@temporalio/common';
import { AgentErrorType } from '@vansales/protocol';
import { isRegistryError, operationArtifactHashes, type ArtifactRegistry } from '@vansales/sdk-factory/registry';
import type { TaskPreparer } from './proxy-activities';

/** The site HTTP operations whose task may name a registered API operation. */
export const OPERATION_TASKS = new Set<string>(['http.read', 'http.write', 'http.write-table']);

/**
 * A site step that names an API operation (`operation: { apiId, version, key }`) leaves for the agent
 * with the hashes of that version's manifest and the operation's bundle, resolved here from the
 * connection's own tenant's registry: the agent fetches both by hash and verifies them. Hashes a
 * workflow put in the input are replaced, never trusted; an operation the registry lacks ends the
 * step with the reason.
 */
export function apiOperationPreparer(registry: Pick<ArtifactRegistry, 'getVersion'>): TaskPreparer {
  return async ({ tenantId }, operation, input) => {
    if (!OPERATION_TASKS.has(operation) || !input || typeof input !== 'object') return input;
    const ref = (input as { operation?: unknown }).operation as
      { apiId?: unknown; version?: unknown; key?: unknown } | undefined;
    if (ref === undefined || ref === null) return input;
    const { apiId, version, key } = ref;
    if (typeof apiId !== 'string' || typeof version !== 'number' || typeof key !== 'string')
      throw ApplicationFailure.create({
        type: AgentErrorType.badInput,
        message: `${operation}: the step's operation needs apiId, version and key`,
        nonRetryable: true,
      });
    try {
      const hashes = await operationArtifactHashes(registry as ArtifactRegistry, tenantId, { apiId, version, key });
      return { ...input, operation: { apiId, version, key, ...hashes } };
    } catch (err) {
      if (isRegistryError(err))
        throw ApplicationFailure.create({ type: AgentErrorType.badInput, message: err.message, nonRetryable: true });
      throw err;
    }
  };
}

/** Runs preparers in turn, each on what the one before made. */
export function composePreparers(...preparers: TaskPreparer[]): TaskPreparer {
  return async (identity, operation, input) => {
    let prepared = input;
    for (const prepare of preparers) prepared = await prepare(identity, operation, prepared);
    return prepared;
  };
}
