import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * Presents an embedded PGlite database as the pool kysely's PostgresDialect expects.
 * PGlite has one connection, so the pool hands it out to one borrower at a time:
 * a transaction never interleaves with another query.
 */
export function pglitePool(db: PGlite): PostgresPool {
  let queue: Promise<void> = Promise.resolve();
  const client = (release: () => void): PostgresPoolClient =>
    ({
      async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        const result = await db.query<R>(sql, parameters as unknown[]);
        const command = (sql.trim().split(/\s+/)[0] ?? 'SELECT').toUpperCase() as PostgresQueryResult<R>['command'];
        return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
      },
      release,
    }) as PostgresPoolClient;
  return {
    connect: () =>
      new Promise<PostgresPoolClient>((resolve) => {
        queue = queue.then(
          () =>
            new Promise<void>((done) => {
              resolve(client(done));
            }),
        );
      }),
    end: () => db.close(),
  };
}
