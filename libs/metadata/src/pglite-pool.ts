import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * Presents an embedded PGlite database as the pool kysely's PostgresDialect expects.
 * PGlite has one connection, so the pool hands it out to one borrower at a time:
 * a transaction never interleaves with another query.
 */
export function pglitePool(db: PGlite): PostgresPool {
  let queue: Promise<void> = Promise.resolve();
  // One client object for the one connection (its release hands the turn on): kysely keys its
  // connection, and the tenant scope's cache of the session setting, on it.
  let done: () => void = () => undefined;
  const client = {
    async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
      const result = await db.query<R>(sql, parameters as unknown[]);
      const command = (sql.trim().split(/\s+/)[0] ?? 'SELECT').toUpperCase() as PostgresQueryResult<R>['command'];
      return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
    },
    release: () => {
      // A second release of the same turn must not hand on the next borrower's.
      const turnOver = done;
      done = () => undefined;
      turnOver();
    },
  } as PostgresPoolClient;
  return {
    connect: () =>
      new Promise<PostgresPoolClient>((resolve) => {
        queue = queue.then(
          () =>
            new Promise<void>((turnOver) => {
              done = turnOver;
              resolve(client);
            }),
        );
      }),
    end: () => db.close(),
  };
}
