import { ALLOW_ALL, prepareDestination, type ColumnSpec, type DataConnection } from '@vansales/dataflow';
import { open, throwawayMariadbDatabase, throwawayPostgres } from './support/databases';

/*
 * A for-each whose body loads with createIfMissing runs its parts concurrently: several loads find
 * the table missing at once and all try to create it. Exactly one creates it; the others must use
 * the table it made (the same columns), not fail the part with "already exists".
 */
const COLUMNS: ColumnSpec[] = [
  { name: 'id', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'integer' },
  { name: 'name', type: { kind: 'text' }, nullable: true, nativeType: 'text' },
  // An enum makes PostgreSQL create a type first: a second race inside the first.
  {
    name: 'rating',
    type: { kind: 'enum', values: ['G', 'PG', 'R'] },
    nullable: true,
    nativeType: "enum('G','PG','R')",
  },
];

const PARTS = 8;

/** One prepareDestination per connection, all at once, on a table none of them has. */
async function race(conns: DataConnection[], table: string) {
  return Promise.allSettled(
    conns.map((conn) =>
      prepareDestination(conn, {
        database: 'db',
        table: { name: table },
        columns: COLUMNS,
        keyColumns: ['id'],
        createIfMissing: true,
        policy: ALLOW_ALL,
      }),
    ),
  );
}

function expectOneCreator(outcomes: Awaited<ReturnType<typeof race>>) {
  const failed = outcomes
    .filter((o) => o.status === 'rejected')
    .map((o) => String((o as PromiseRejectedResult).reason));
  expect(failed).toEqual([]);
  const done = outcomes.map((o) => (o as PromiseFulfilledResult<{ created: boolean; columns: ColumnSpec[] }>).value);
  expect(done.filter((d) => d.created)).toHaveLength(1);
  for (const d of done) expect(d.columns.map((c) => c.name)).toEqual(['id', 'name', 'rating']);
}

describe('createIfMissing under concurrency: one load creates the table, the others use it', () => {
  it('on PostgreSQL', async () => {
    const db = await throwawayPostgres();
    // Each load has its own connection (own pool), as concurrent activities do.
    const conns = await Promise.all(Array.from({ length: PARTS }, () => open(db.config)));
    try {
      for (let round = 0; round < 3; round++) expectOneCreator(await race(conns, `race_${round}`));
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await db.drop();
    }
  });

  it('on MariaDB', async () => {
    const db = await throwawayMariadbDatabase();
    const conn = await open(db.config);
    try {
      for (let round = 0; round < 3; round++)
        expectOneCreator(
          await race(
            Array.from({ length: PARTS }, () => conn),
            `race_${round}`,
          ),
        );
    } finally {
      await conn.close();
      await db.drop();
    }
  });
});
