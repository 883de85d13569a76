import type { Notification, Pool } from 'pg';
import { DataflowError, DataflowErrorCode } from '../errors';
import { quoteIdent } from '../identifiers';
import type { NotificationListener } from '../types/data-connection';
import { connectPg, type PgSettings } from './pool';

/**
 * LISTEN on one pooled connection, held until close. A notification is latched until the next
 * wait takes it, so "listen, read, then wait" misses none sent between the read and the wait.
 */
export async function listenPostgres(pool: Pool, settings: PgSettings, channel: string): Promise<NotificationListener> {
  const client = await connectPg(pool, settings);
  let pending = false;
  let wake: (() => void) | undefined;
  const onNotification = (n: Notification) => {
    if (n.channel !== channel) return;
    pending = true;
    wake?.();
  };
  client.on('notification', onNotification);
  try {
    await client.query(`LISTEN ${quoteIdent(channel, 'postgres')}`);
  } catch (err) {
    client.off('notification', onNotification);
    client.release(true);
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      `cannot LISTEN on channel ${channel}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return {
    wait(ms, signal) {
      if (pending) {
        pending = false;
        return Promise.resolve('notify');
      }
      return new Promise((resolve, reject) => {
        const done = (how: 'notify' | 'timeout' | 'abort') => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          wake = undefined;
          if (how === 'abort')
            return reject(new DataflowError(DataflowErrorCode.CANCELLED, 'the wait for a notification was cancelled'));
          pending = false;
          resolve(how);
        };
        const onAbort = () => done('abort');
        const timer = setTimeout(() => done('timeout'), ms);
        wake = () => done('notify');
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async close() {
      client.off('notification', onNotification);
      // A session that still listens must not go back to the pool: it would keep receiving.
      client.release(true);
    },
  };
}
