import type { Pool, PoolClient } from 'pg';
import { DataflowError, DataflowErrorCode, normaliseError } from '../errors';
import { cancelBackend, connectPg, type PgSettings } from './pool';

/**
 * Runs `fn` on a pooled connection inside a READ ONLY transaction under the session's statement
 * timeout, the one way reads of free-form SQL and of the catalog reach PostgreSQL. An abort cancels
 * the running statement on the server; afterwards the transaction is rolled back and the connection
 * released, or discarded when a cancel may still be in flight or the connection failed.
 */
export async function withReadOnlySession<T>(
  pool: Pool,
  settings: PgSettings,
  options: { signal?: AbortSignal; cancelledMessage: string; failureMessage: string },
  fn: (client: PoolClient, assertNotAborted: () => void) => Promise<T>,
): Promise<T> {
  const { signal, cancelledMessage, failureMessage } = options;
  const assertNotAborted = () => {
    if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, cancelledMessage);
  };
  assertNotAborted();
  const client = await connectPg(pool, settings);
  const pid = (client as unknown as { processID: number }).processID;
  // The server's own cancel, from another connection: the statement stops, this one stays usable.
  let settled = false;
  const onAbort = () => cancelBackend(pool, pid, () => settled);
  signal?.addEventListener('abort', onAbort, { once: true });
  let broken = false;
  try {
    await client.query('BEGIN READ ONLY');
    if (settings.statementTimeoutMs)
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(settings.statementTimeoutMs)}`);
    // A cancel sent before the statement starts would cancel nothing.
    assertNotAborted();
    return await fn(client, assertNotAborted);
  } catch (err) {
    if (signal?.aborted) throw new DataflowError(DataflowErrorCode.CANCELLED, cancelledMessage, { cause: err });
    const e = normaliseError(err, DataflowErrorCode.READ_FAILED, failureMessage);
    if (e.code === DataflowErrorCode.CONNECTION_FAILED) broken = true;
    throw e;
  } finally {
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    // A cancel still in flight must not hit the next statement of a reused connection.
    if (signal?.aborted) broken = true;
    if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
    client.release(broken ? new Error('discarded') : undefined);
  }
}
