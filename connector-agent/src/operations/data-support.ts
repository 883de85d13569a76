import { AgentErrorType, type BufferGrant } from '@vansales/protocol';
import { DataflowError, failureTypeOf, type DataConnection, type ObjectSink } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import type { SiteDatabase } from '../site-database/site-database';
import { SitePolicyError, type SitePolicy } from '../policy/site-policy';
import { OperationError } from './operation';

/** What the data operations need from the agent: its databases and its site policy. */
export interface DataDeps {
  database(name: string): SiteDatabase | undefined;
  /** Read for every task, so an edit of the site's file applies at once. */
  policy(): SitePolicy;
}

export function parseOrRefuse<T>(
  schema: {
    safeParse(
      v: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  raw: unknown,
  operation: string,
): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OperationError(
      AgentErrorType.badInput,
      `invalid ${operation} input: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}`,
      false,
    );
  }
  return parsed.data;
}

export function policyOf(deps: DataDeps): SitePolicy {
  try {
    return deps.policy();
  } catch (err) {
    if (err instanceof SitePolicyError) throw new OperationError(AgentErrorType.policyRefused, err.message, false);
    throw err;
  }
}

export async function openConfigured(deps: DataDeps, name: string): Promise<DataConnection> {
  const db = deps.database(name);
  if (!db)
    throw new OperationError(
      AgentErrorType.unknownDatabase,
      `no database named ${name} is configured on this agent`,
      false,
    );
  try {
    return await db.rows();
  } catch (err) {
    throw toOperationError(err, AgentErrorType.databaseUnavailable);
  }
}

/** Every failure an operation ends with, in the protocol's types; driver errors arrive normalised by dataflow (one table). */
export function toOperationError(
  err: unknown,
  fallback: (typeof AgentErrorType)[keyof typeof AgentErrorType] = AgentErrorType.sqlError,
): OperationError {
  if (err instanceof OperationError) return err;
  if (err instanceof DataflowError) {
    return new OperationError(failureTypeOf(err.code), err.message, err.retryable);
  }
  const e = err as { message?: string; code?: string; name?: string };
  if (e.name === 'AbortError') return new OperationError(AgentErrorType.cancelled, 'cancelled', false);
  return new OperationError(
    fallback,
    `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`,
    fallback === AgentErrorType.databaseUnavailable,
  );
}

/**
 * The object-scoped buffer grant the gateway added to a task, checked against the object the task
 * names and the access it needs: a task without one (or with another object's) is refused.
 */
export function grantOf(
  input: { buffer?: BufferGrant; objectId: string },
  scope: BufferGrant['scope'],
  operation: string,
): BufferGrant {
  const grant = input.buffer;
  if (!grant || grant.scope !== scope || grant.objectId !== input.objectId)
    throw new OperationError(
      AgentErrorType.badInput,
      `${operation} needs a ${scope} grant for its object from the gateway`,
      false,
    );
  return grant;
}

/** Where an extract's chunks and manifest go: the buffer, through the gateway, with the task's grant. */
export function bufferSink(buffer: BufferClient, grant: BufferGrant, signal: AbortSignal): ObjectSink {
  return {
    // Before the first chunk: a load that follows the object prepares its table from it.
    publishSchema: (schema) => buffer.publishSchema(grant, schema, signal),
    put: (index, bytes, rows) => buffer.putChunk(grant, index, bytes, rows, signal),
    commit: (manifest) => buffer.commit(grant, manifest, signal),
  };
}
