import { type DataConnection, tableChecksum } from '@vansales/dataflow';
import { SAKILA_TABLES } from '@vansales/test-kit';
import {
  copyTable,
  mariadbConfig,
  open,
  postgresConfig,
  throwawayMariadbDatabase,
  throwawayPostgres,
} from './support/databases';

describe('Sakila (MariaDB) -> PostgreSQL', () => {
  let target: Awaited<ReturnType<typeof throwawayPostgres>>;
  let sakila: DataConnection;
  let pg: DataConnection;

  beforeAll(async () => {
    target = await throwawayPostgres();
    sakila = await open(mariadbConfig('sakila'));
    pg = await open(target.config);
  });
  afterAll(async () => {
    await sakila?.close();
    await pg?.close();
    await target?.drop();
  });

  it('lists the 16 tables', async () => {
    expect((await sakila.listTables()).map((t) => t.name)).toEqual(SAKILA_TABLES);
  });

  it.each(SAKILA_TABLES)('copies %s row for row (count and checksum equal)', async (name) => {
    const { columns, primaryKey, rows } = await copyTable(sakila, pg, { name }, { name }, { batchSize: 5000 });
    const count = await sakila.countRows({ name });
    expect(rows).toBe(count);
    expect(await pg.countRows({ name })).toBe(count);
    const a = await tableChecksum(sakila, { name }, columns, primaryKey);
    const b = await tableChecksum(pg, { name }, columns, primaryKey);
    expect(b).toEqual(a);
    expect(a.rows).toBe(count);
  });
});

describe('Pagila (PostgreSQL) -> MariaDB', () => {
  let target: Awaited<ReturnType<typeof throwawayMariadbDatabase>>;
  let pagila: DataConnection;
  let my: DataConnection;

  beforeAll(async () => {
    target = await throwawayMariadbDatabase();
    pagila = await open(postgresConfig('pagila'));
    my = await open(target.config);
  });
  afterAll(async () => {
    await pagila?.close();
    await my?.close();
    await target?.drop();
  });

  it('marks the partitioned payment table and its partitions', async () => {
    const tables = await pagila.listTables();
    expect(tables.find((t) => t.name === 'payment')).toEqual({
      schema: 'public',
      name: 'payment',
      kind: 'partitioned-table',
    });
    const partitions = tables.filter((t) => t.kind === 'partition');
    expect(partitions.map((t) => t.name)).toEqual([
      'payment_p2022_01',
      'payment_p2022_02',
      'payment_p2022_03',
      'payment_p2022_04',
      'payment_p2022_05',
      'payment_p2022_06',
      'payment_p2022_07',
    ]);
    expect(partitions.every((t) => t.partitionOf?.name === 'payment')).toBe(true);
  });

  it('copies every table once (the partitioned parent, not its partitions), row for row', async () => {
    // Reading the parent returns every partition's rows: copying the partitions too would copy them twice.
    const tables = (await pagila.listTables()).filter((t) => t.kind !== 'partition');
    expect(tables.map((t) => t.name)).toEqual([
      'actor',
      'address',
      'category',
      'city',
      'country',
      'customer',
      'film',
      'film_actor',
      'film_category',
      'inventory',
      'language',
      'payment',
      'rental',
      'staff',
      'store',
    ]);
    for (const t of tables) {
      const { columns, primaryKey, rows } = await copyTable(
        pagila,
        my,
        { name: t.name },
        { name: t.name },
        { batchSize: 5000 },
      );
      const count = await pagila.countRows({ name: t.name });
      expect({ table: t.name, rows }).toEqual({ table: t.name, rows: count });
      expect(await my.countRows({ name: t.name })).toBe(count);
      const a = await tableChecksum(pagila, { name: t.name }, columns, primaryKey);
      const b = await tableChecksum(my, { name: t.name }, columns, primaryKey);
      expect({ table: t.name, ...b }).toEqual({ table: t.name, ...a });
    }
    const film = (await my.describeTable({ name: 'film' }))!;
    expect(Object.fromEntries(film.columns.map((c) => [c.name, c.nativeType]))).toMatchObject({
      rating: "enum('G','PG','PG-13','R','NC-17')",
      release_year: 'int(11)',
      special_features: 'json',
      fulltext: 'longtext',
      last_update: 'datetime(6)',
    });
    expect(await my.countRows({ name: 'payment' })).toBe(await pagila.countRows({ name: 'payment' }));
  });
});
