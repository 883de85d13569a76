import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { SAKILA_TABLES, testServices } from '@vansales/test-kit';
import {
  AgentErrorType,
  diffSnapshots,
  SchemaSnapshot,
  type ColumnSnapshot,
  type ForeignKeySnapshot,
  type TableSnapshot,
} from '@vansales/protocol';
import { discoverSchema, siteDatabases, type DiscoveryTarget } from '../src/site-database/site-database';
import { createSchemaDiscover } from '../src/operations/schema-discover';
import { OperationError } from '../src/operations/operation';
import { mssqlTypeName } from '../src/site-database/catalog/mssql-type-name';

/*
 * Schema discovery against the real Sakila (MariaDB) and Pagila (PostgreSQL) databases the test
 * services load, checked against facts read from their dump files, and a diff over real DDL.
 */

const services = testServices();

function postgres(database: string): DiscoveryTarget {
  const url = new URL(services.postgresUrl(database));
  return {
    dialect: 'postgres',
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  };
}
const mariadb = (database: string): DiscoveryTarget => ({ dialect: 'mysql', ...services.mariadb, database });

const dump = (relative: string): string => {
  if (!services.sharedData)
    throw new Error('shared/data is not beside the clone: the dumps these tests check against are missing');
  return readFileSync(join(services.sharedData, relative), 'utf8');
};

const col = (
  name: string,
  position: number,
  dataType: string,
  nullable: boolean,
  dflt: string | null,
  extra: Partial<ColumnSnapshot> = {},
): ColumnSnapshot => ({
  name,
  position,
  dataType,
  nullable,
  default: dflt,
  ...extra,
});

function tablesOf(snapshot: SchemaSnapshot, schema: string): Map<string, TableSnapshot> {
  const s = snapshot.schemas.find((x) => x.name === schema);
  if (!s) throw new Error(`schema ${schema} not in snapshot`);
  return new Map(s.tables.map((t) => [t.name, t]));
}
const table = (tables: Map<string, TableSnapshot>, name: string): TableSnapshot => {
  const t = tables.get(name);
  if (!t) throw new Error(`table ${name} not discovered`);
  return t;
};
const namesOfKind = (tables: Map<string, TableSnapshot>, kind: TableSnapshot['kind']) =>
  [...tables.values()]
    .filter((t) => t.kind === kind)
    .map((t) => t.name)
    .sort();

type Fk = { table: string } & ForeignKeySnapshot;
const allForeignKeys = (tables: Map<string, TableSnapshot>): Fk[] =>
  [...tables.values()]
    .flatMap((t) => t.foreignKeys.map((fk) => ({ table: t.name, ...fk })))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
const splitCols = (s: string) => s.split(',').map((c) => c.trim().replace(/`/g, ''));

/** Every FOREIGN KEY clause of the Sakila dump, per CREATE TABLE. */
function sakilaForeignKeysFromDump(): Fk[] {
  const out: Fk[] = [];
  for (const block of dump('sakila-mysql/sakila-schema.sql')
    .split(/CREATE TABLE /)
    .slice(1)) {
    const tableName = /^`?(\w+)`?/.exec(block)![1]!;
    const body = block.slice(0, block.indexOf(')ENGINE'));
    const re =
      /CONSTRAINT `?(\w+)`? FOREIGN KEY \(([^)]+)\) REFERENCES `?(\w+)`? \(([^)]+)\) ON DELETE (RESTRICT|CASCADE|SET NULL|NO ACTION) ON UPDATE (RESTRICT|CASCADE|SET NULL|NO ACTION)/g;
    for (const m of body.matchAll(re)) {
      out.push({
        table: tableName,
        name: m[1]!,
        columns: splitCols(m[2]!),
        referencedSchema: 'sakila',
        referencedTable: m[3]!,
        referencedColumns: splitCols(m[4]!),
        onDelete: m[5] as Fk['onDelete'],
        onUpdate: m[6] as Fk['onUpdate'],
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Every ADD CONSTRAINT ... FOREIGN KEY of the Pagila dump (pg_dump omits NO ACTION, the default). */
function pagilaForeignKeysFromDump(): Fk[] {
  const re =
    /ALTER TABLE ONLY public\.(\w+)\s+ADD CONSTRAINT (\w+) FOREIGN KEY \(([^)]+)\) REFERENCES public\.(\w+)\(([^)]+)\)(?: ON UPDATE (CASCADE|RESTRICT|SET NULL|SET DEFAULT))?(?: ON DELETE (CASCADE|RESTRICT|SET NULL|SET DEFAULT))?;/g;
  return [...dump('pagila-postgres/pagila-schema.sql').matchAll(re)]
    .map((m) => ({
      table: m[1]!,
      name: m[2]!,
      columns: splitCols(m[3]!),
      referencedSchema: 'public',
      referencedTable: m[4]!,
      referencedColumns: splitCols(m[5]!),
      onUpdate: (m[6] ?? 'NO ACTION') as Fk['onUpdate'],
      onDelete: (m[7] ?? 'NO ACTION') as Fk['onDelete'],
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe('schema discovery of Sakila on MariaDB', () => {
  let snapshot: SchemaSnapshot;
  let tables: Map<string, TableSnapshot>;

  beforeAll(async () => {
    snapshot = await discoverSchema(mariadb('sakila'));
    tables = tablesOf(snapshot, 'sakila');
  });

  it('returns a valid snapshot of the configured database only, with no system schema', () => {
    expect(SchemaSnapshot.parse(snapshot)).toEqual(snapshot); // parse strips unknown members: equal means none
    expect(snapshot.dialect).toBe('mysql');
    expect(snapshot.database).toBe('sakila');
    expect(snapshot.schemas.map((s) => s.name)).toEqual(['sakila']);
  });

  it('finds exactly the 16 tables and 7 views of the dump', () => {
    expect(namesOfKind(tables, 'table')).toEqual(SAKILA_TABLES);
    expect(namesOfKind(tables, 'view')).toEqual([
      'actor_info',
      'customer_list',
      'film_list',
      'nicer_but_slower_film_list',
      'sales_by_film_category',
      'sales_by_store',
      'staff_list',
    ]);
    expect(tables.size).toBe(23);
  });

  it('reads film with its enum, set, decimal defaults and auto-increment key', () => {
    expect(table(tables, 'film').columns).toEqual([
      col('film_id', 1, 'smallint(5) unsigned', false, null, { identity: 'by-default' }),
      col('title', 2, 'varchar(255)', false, null),
      col('description', 3, 'text', true, null),
      col('release_year', 4, 'year(4)', true, null),
      col('language_id', 5, 'tinyint(3) unsigned', false, null),
      col('original_language_id', 6, 'tinyint(3) unsigned', true, null),
      col('rental_duration', 7, 'tinyint(3) unsigned', false, '3'),
      col('rental_rate', 8, 'decimal(4,2)', false, '4.99'),
      col('length', 9, 'smallint(5) unsigned', true, null),
      col('replacement_cost', 10, 'decimal(5,2)', false, '19.99'),
      col('rating', 11, "enum('G','PG','PG-13','R','NC-17')", true, "'G'"),
      col('special_features', 12, "set('Trailers','Commentaries','Deleted Scenes','Behind the Scenes')", true, null),
      col('last_update', 13, 'timestamp', false, 'current_timestamp()'),
    ]);
  });

  it('reads rental and payment column by column', () => {
    expect(table(tables, 'rental').columns).toEqual([
      col('rental_id', 1, 'int(11)', false, null, { identity: 'by-default' }),
      col('rental_date', 2, 'datetime', false, null),
      col('inventory_id', 3, 'mediumint(8) unsigned', false, null),
      col('customer_id', 4, 'smallint(5) unsigned', false, null),
      col('return_date', 5, 'datetime', true, null),
      col('staff_id', 6, 'tinyint(3) unsigned', false, null),
      col('last_update', 7, 'timestamp', false, 'current_timestamp()'),
    ]);
    expect(table(tables, 'payment').columns).toEqual([
      col('payment_id', 1, 'smallint(5) unsigned', false, null, { identity: 'by-default' }),
      col('customer_id', 2, 'smallint(5) unsigned', false, null),
      col('staff_id', 3, 'tinyint(3) unsigned', false, null),
      col('rental_id', 4, 'int(11)', true, null),
      col('amount', 5, 'decimal(5,2)', false, null),
      col('payment_date', 6, 'datetime', false, null),
      // The dump declares this one without NOT NULL.
      col('last_update', 7, 'timestamp', true, 'current_timestamp()'),
    ]);
    // BOOLEAN NOT NULL DEFAULT TRUE is stored as tinyint(1) with default 1.
    expect(table(tables, 'staff').columns.find((c) => c.name === 'active')).toEqual(
      col('active', 8, 'tinyint(1)', false, '1'),
    );
  });

  it('reads address as MariaDB created it: the GEOMETRY column of the dump is not there', async () => {
    // The dump wraps `location GEOMETRY NOT NULL` and its SPATIAL KEY in /*!50705 ... */, a MySQL
    // 5.7 executable comment. MariaDB does not run 5.7-range (50700-99999) executable comments, so
    // the loaded table has no such column. Prove the server behaves so, then check the table.
    const conn = await createConnection(services.mariadb);
    const [rows] = (await conn.query({ sql: 'SELECT /*!50705 1, */ 2', rowsAsArray: true })) as [unknown[][], unknown];
    await conn.end();
    expect(rows[0]).toHaveLength(1);
    const address = table(tables, 'address');
    expect(address.columns).toEqual([
      col('address_id', 1, 'smallint(5) unsigned', false, null, { identity: 'by-default' }),
      col('address', 2, 'varchar(50)', false, null),
      col('address2', 3, 'varchar(50)', true, null),
      col('district', 4, 'varchar(20)', false, null),
      col('city_id', 5, 'smallint(5) unsigned', false, null),
      col('postal_code', 6, 'varchar(10)', true, null),
      col('phone', 7, 'varchar(20)', false, null),
      col('last_update', 8, 'timestamp', false, 'current_timestamp()'),
    ]);
    expect(address.indexes.map((i) => i.name)).toEqual(['PRIMARY', 'idx_fk_city_id']);
  });

  it('reads every primary key of the dump', () => {
    const pks = Object.fromEntries(
      [...tables.values()].filter((t) => t.kind === 'table').map((t) => [t.name, t.primaryKey]),
    );
    expect(pks).toEqual({
      actor: ['actor_id'],
      address: ['address_id'],
      category: ['category_id'],
      city: ['city_id'],
      country: ['country_id'],
      customer: ['customer_id'],
      film: ['film_id'],
      film_actor: ['actor_id', 'film_id'],
      film_category: ['film_id', 'category_id'],
      film_text: ['film_id'],
      inventory: ['inventory_id'],
      language: ['language_id'],
      payment: ['payment_id'],
      rental: ['rental_id'],
      staff: ['staff_id'],
      store: ['store_id'],
    });
    for (const v of namesOfKind(tables, 'view')) expect(table(tables, v).primaryKey).toBeNull();
  });

  it('reads every foreign key of the dump, with its columns and actions', () => {
    const expected = sakilaForeignKeysFromDump();
    expect(expected).toHaveLength(22);
    expect(allForeignKeys(tables)).toEqual(expected);
    expect(table(tables, 'payment').foreignKeys.find((f) => f.name === 'fk_payment_rental')).toEqual({
      name: 'fk_payment_rental',
      columns: ['rental_id'],
      referencedSchema: 'sakila',
      referencedTable: 'rental',
      referencedColumns: ['rental_id'],
      onUpdate: 'CASCADE',
      onDelete: 'SET NULL',
    });
  });

  it("reads the indexes: the dump's keys plus the two InnoDB adds for unindexed foreign keys", () => {
    const indexes = [...tables.values()].flatMap((t) => t.indexes.map((i) => `${t.name}.${i.name}`));
    // 40 key lines in the dump, minus the SPATIAL key MariaDB skipped, plus InnoDB's own indexes
    // for fk_film_category_category and fk_payment_rental (no index started with their column).
    expect(indexes).toHaveLength(41);
    expect(indexes).toEqual(
      expect.arrayContaining(['film_category.fk_film_category_category', 'payment.fk_payment_rental']),
    );
    const rental = table(tables, 'rental').indexes;
    expect(rental.find((i) => i.name === 'rental_date')).toEqual({
      name: 'rental_date',
      columns: ['rental_date', 'inventory_id', 'customer_id'],
      unique: true,
      primary: false,
      method: 'BTREE',
    });
    expect(table(tables, 'film_text').indexes.find((i) => i.name === 'idx_title_description')).toEqual({
      name: 'idx_title_description',
      columns: ['title', 'description'],
      unique: false,
      primary: false,
      method: 'FULLTEXT',
    });
    expect(table(tables, 'store').indexes.find((i) => i.name === 'idx_unique_manager')?.unique).toBe(true);
    expect(table(tables, 'inventory').indexes.find((i) => i.name === 'idx_store_id_film_id')?.columns).toEqual([
      'store_id',
      'film_id',
    ]);
  });

  it('gives a row estimate for every table and none for views', () => {
    for (const t of tables.values()) {
      if (t.kind === 'view') expect(t.rowEstimate).toBeNull();
      else expect(typeof t.rowEstimate).toBe('number');
    }
    // InnoDB estimates from sampled pages: near the real counts, not equal to them.
    expect(table(tables, 'rental').rowEstimate).toBeGreaterThan(16044 * 0.5);
    expect(table(tables, 'rental').rowEstimate).toBeLessThan(16044 * 1.5);
    expect(table(tables, 'staff').rowEstimate).toBeLessThan(100);
  });

  it('is deterministic: a second discovery is deep-equal', async () => {
    expect(await discoverSchema(mariadb('sakila'))).toEqual(snapshot);
  });

  it('sees the same structure as a SELECT-only account', async () => {
    const user = `vsc_sd_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const conn = await createConnection(services.mariadb);
    try {
      await conn.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'`);
      await conn.query(`GRANT SELECT, SHOW VIEW ON sakila.* TO '${user}'@'127.0.0.1'`);
      const asReader = await discoverSchema({ ...mariadb('sakila'), user, password });
      expect(diffSnapshots(snapshot, asReader)).toEqual([]);
      expect([...tablesOf(asReader, 'sakila').keys()]).toEqual([...tables.keys()]);
    } finally {
      await conn.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`);
      await conn.end();
    }
  });
});

describe('schema discovery of Pagila on PostgreSQL', () => {
  let snapshot: SchemaSnapshot;
  let tables: Map<string, TableSnapshot>;

  beforeAll(async () => {
    // Fresh statistics, so the row estimates are the planner's best (and stable between the two runs below).
    const c = new Client({ connectionString: services.postgresUrl('pagila') });
    await c.connect();
    await c.query('ANALYZE');
    await c.end();
    snapshot = await discoverSchema(postgres('pagila'));
    tables = tablesOf(snapshot, 'public');
  });

  it('returns a valid snapshot of the database, without pg_catalog, information_schema or pg_toast', () => {
    expect(SchemaSnapshot.parse(snapshot)).toEqual(snapshot);
    expect(snapshot.dialect).toBe('postgres');
    expect(snapshot.database).toBe('pagila');
    expect(snapshot.schemas.map((s) => s.name)).toEqual(['public']);
  });

  it('finds exactly the tables, the partitioned payment with its 7 partitions, the views and the materialized view', () => {
    const partitions = [
      'payment_p2022_01',
      'payment_p2022_02',
      'payment_p2022_03',
      'payment_p2022_04',
      'payment_p2022_05',
      'payment_p2022_06',
      'payment_p2022_07',
    ];
    expect(namesOfKind(tables, 'table')).toEqual([
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
      ...partitions,
      'rental',
      'staff',
      'store',
    ]);
    expect(namesOfKind(tables, 'partitioned-table')).toEqual(['payment']);
    expect(namesOfKind(tables, 'view')).toEqual([
      'actor_info',
      'customer_list',
      'film_list',
      'nicer_but_slower_film_list',
      'sales_by_film_category',
      'sales_by_store',
      'staff_list',
    ]);
    expect(namesOfKind(tables, 'materialized-view')).toEqual(['rental_by_category']);
    expect(tables.size).toBe(30);
    expect([...tables.values()].filter((t) => t.partitionOf).map((t) => [t.name, t.partitionOf])).toEqual(
      partitions.map((p) => [p, 'payment']),
    );
  });

  it('reads film with its domain, enum, array, tsvector and defaults as pg_dump spells them', () => {
    expect(table(tables, 'film').columns).toEqual([
      col('film_id', 1, 'integer', false, "nextval('public.film_film_id_seq'::regclass)"),
      col('title', 2, 'text', false, null),
      col('description', 3, 'text', true, null),
      col('release_year', 4, 'public.year', true, null),
      col('language_id', 5, 'integer', false, null),
      col('original_language_id', 6, 'integer', true, null),
      col('rental_duration', 7, 'smallint', false, '3'),
      col('rental_rate', 8, 'numeric(4,2)', false, '4.99'),
      col('length', 9, 'smallint', true, null),
      col('replacement_cost', 10, 'numeric(5,2)', false, '19.99'),
      col('rating', 11, 'public.mpaa_rating', true, "'G'::public.mpaa_rating"),
      col('last_update', 12, 'timestamp with time zone', false, 'now()'),
      col('special_features', 13, 'text[]', true, null),
      col('fulltext', 14, 'tsvector', false, null),
    ]);
  });

  it('reads payment (the partitioned parent), rental and language column by column', () => {
    const payment = [
      col('payment_id', 1, 'integer', false, "nextval('public.payment_payment_id_seq'::regclass)"),
      col('customer_id', 2, 'integer', false, null),
      col('staff_id', 3, 'integer', false, null),
      col('rental_id', 4, 'integer', false, null),
      col('amount', 5, 'numeric(5,2)', false, null),
      col('payment_date', 6, 'timestamp with time zone', false, null),
    ];
    expect(table(tables, 'payment').columns).toEqual(payment);
    expect(table(tables, 'payment_p2022_03').columns).toEqual(payment);
    expect(table(tables, 'rental').columns).toEqual([
      col('rental_id', 1, 'integer', false, "nextval('public.rental_rental_id_seq'::regclass)"),
      col('rental_date', 2, 'timestamp with time zone', false, null),
      col('inventory_id', 3, 'integer', false, null),
      col('customer_id', 4, 'integer', false, null),
      col('return_date', 5, 'timestamp with time zone', true, null),
      col('staff_id', 6, 'integer', false, null),
      col('last_update', 7, 'timestamp with time zone', false, 'now()'),
    ]);
    expect(table(tables, 'language').columns.map((c) => c.dataType)).toEqual([
      'integer',
      'character(20)',
      'timestamp with time zone',
    ]);
    expect(table(tables, 'staff_list').columns.map((c) => c.name)).toEqual([
      'id',
      'name',
      'address',
      'zip code',
      'phone',
      'city',
      'country',
      'sid',
    ]);
  });

  it('reads every primary key, the partitioned one included', () => {
    const pks = Object.fromEntries([...tables.values()].filter((t) => t.primaryKey).map((t) => [t.name, t.primaryKey]));
    const single = (t: string) => [t, [`${t}_id`]];
    expect(pks).toEqual({
      ...Object.fromEntries(
        [
          'actor',
          'address',
          'category',
          'city',
          'country',
          'customer',
          'film',
          'inventory',
          'language',
          'rental',
          'staff',
          'store',
        ].map(single),
      ),
      film_actor: ['actor_id', 'film_id'],
      film_category: ['film_id', 'category_id'],
      payment: ['payment_date', 'payment_id'],
      ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((m) => [`payment_p2022_0${m}`, ['payment_date', 'payment_id']])),
    });
  });

  it('reads every foreign key of the dump, with its columns and actions', () => {
    const expected = pagilaForeignKeysFromDump();
    expect(expected).toHaveLength(36);
    expect(allForeignKeys(tables)).toEqual(expected);
    expect(table(tables, 'film').foreignKeys.find((f) => f.name === 'film_original_language_id_fkey')).toEqual({
      name: 'film_original_language_id_fkey',
      columns: ['original_language_id'],
      referencedSchema: 'public',
      referencedTable: 'language',
      referencedColumns: ['language_id'],
      onUpdate: 'CASCADE',
      onDelete: 'RESTRICT',
    });
    expect(table(tables, 'staff').foreignKeys.find((f) => f.name === 'staff_store_id_fkey')?.onDelete).toBe(
      'NO ACTION',
    );
  });

  it("reads the indexes: every CREATE INDEX of the dump, every primary key index, and the partitions' own", () => {
    const sql = dump('pagila-postgres/pagila-schema.sql');
    const created = [...sql.matchAll(/^CREATE (UNIQUE )?INDEX (\w+) ON public\.(\w+) USING (\w+) \(([^)]+)\);$/gm)].map(
      (m) => ({
        table: m[3]!,
        name: m[2]!,
        unique: Boolean(m[1]),
        method: m[4]!,
        columns: splitCols(m[5]!),
      }),
    );
    expect(created).toHaveLength(34);
    for (const ix of created) {
      expect(table(tables, ix.table).indexes.find((i) => i.name === ix.name)).toEqual({
        name: ix.name,
        columns: ix.columns,
        unique: ix.unique,
        primary: false,
        method: ix.method,
      });
    }
    const all = [...tables.values()].flatMap((t) => t.indexes);
    // 34 created + 15 primary keys in the dump (14 ADD CONSTRAINT, payment's inline) + 7 partition primary keys.
    expect(all).toHaveLength(56);
    expect(all.filter((i) => i.primary)).toHaveLength(22);
    expect(table(tables, 'payment').indexes).toEqual([
      { name: 'payment_pkey', columns: ['payment_date', 'payment_id'], unique: true, primary: true, method: 'btree' },
    ]);
    expect(table(tables, 'payment_p2022_07').indexes.map((i) => i.name)).toEqual(['payment_p2022_07_pkey']);
  });

  it('gives row estimates: exact after ANALYZE for these small tables, summed over partitions, none for views', () => {
    expect(table(tables, 'film').rowEstimate).toBe(1000);
    expect(table(tables, 'rental').rowEstimate).toBe(16044);
    expect(table(tables, 'payment').rowEstimate).toBe(16049);
    const partitionSum = [...tables.values()]
      .filter((t) => t.partitionOf === 'payment')
      .reduce((n, t) => n + (t.rowEstimate ?? NaN), 0);
    expect(partitionSum).toBe(16049);
    for (const t of tables.values()) {
      if (t.kind === 'view') expect(t.rowEstimate).toBeNull();
      else if (t.kind === 'table' || t.kind === 'partitioned-table') expect(typeof t.rowEstimate).toBe('number');
    }
  });

  it('is deterministic: a second discovery is deep-equal', async () => {
    expect(await discoverSchema(postgres('pagila'))).toEqual(snapshot);
  });

  it('discovers only the schemas asked for', async () => {
    const none = await discoverSchema(postgres('pagila'), { schemas: ['no_such_schema'] });
    expect(none.schemas).toEqual([]);
    const pub = await discoverSchema(postgres('pagila'), { schemas: ['public'] });
    expect(pub).toEqual(snapshot);
  });
});

describe('schema diff over real DDL', () => {
  it('PostgreSQL: reports exactly an added column, a dropped index and an added table; reads identity, generated, expression and partial indexes', async () => {
    const name = `vsc_sd_${randomBytes(5).toString('hex')}`;
    const admin = new Client({ connectionString: services.postgresUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const c = new Client({ connectionString: services.postgresUrl(name) });
    await c.connect();
    try {
      await c.query(`
        CREATE SCHEMA sales;
        CREATE TABLE public.region (code text NOT NULL, id smallint NOT NULL, PRIMARY KEY (id, code));
        CREATE DOMAIN sales.money_amount AS numeric(12,2) CHECK (VALUE >= 0);
        CREATE TYPE sales.state AS ENUM ('open', 'paid');
        CREATE TABLE sales.customer (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          name character varying(255) NOT NULL,
          email text,
          name_lower text GENERATED ALWAYS AS (lower(name)) STORED,
          region_code text,
          region_id smallint,
          FOREIGN KEY (region_code, region_id) REFERENCES public.region (code, id) ON UPDATE SET NULL
        );
        COMMENT ON TABLE sales.customer IS 'who buys';
        COMMENT ON COLUMN sales.customer.email IS 'contact address';
        CREATE TABLE sales.invoice (
          customer_id bigint NOT NULL REFERENCES sales.customer (id) ON DELETE CASCADE,
          number integer NOT NULL,
          total sales.money_amount NOT NULL DEFAULT 0,
          state sales.state NOT NULL DEFAULT 'open',
          PRIMARY KEY (customer_id, number)
        );
        CREATE INDEX invoice_open ON sales.invoice (customer_id) INCLUDE (total) WHERE state = 'open';
        CREATE UNIQUE INDEX customer_email_lower ON sales.customer (lower(email));
        CREATE INDEX customer_name ON sales.customer (name);
        CREATE VIEW sales.open_invoice AS SELECT * FROM sales.invoice WHERE state = 'open';
      `);
      const before = await discoverSchema(postgres(name));
      expect(before.schemas.map((s) => s.name)).toEqual(['public', 'sales']);
      const sales = tablesOf(before, 'sales');
      const customer = table(sales, 'customer');
      expect(customer.comment).toBe('who buys');
      expect(customer.columns).toEqual([
        col('id', 1, 'bigint', false, null, { identity: 'always' }),
        col('name', 2, 'character varying(255)', false, null),
        col('email', 3, 'text', true, null, { comment: 'contact address' }),
        col('name_lower', 4, 'text', true, null, { generated: { expression: 'lower((name)::text)', stored: true } }),
        col('region_code', 5, 'text', true, null),
        col('region_id', 6, 'smallint', true, null),
      ]);
      expect(customer.indexes.find((i) => i.name === 'customer_email_lower')).toEqual({
        name: 'customer_email_lower',
        columns: ['lower(email)'],
        unique: true,
        primary: false,
        method: 'btree',
      });
      const invoice = table(sales, 'invoice');
      expect(invoice.columns.map((x) => [x.name, x.dataType, x.default])).toEqual([
        ['customer_id', 'bigint', null],
        ['number', 'integer', null],
        ['total', 'sales.money_amount', '0'],
        ['state', 'sales.state', "'open'::sales.state"],
      ]);
      expect(invoice.indexes.find((i) => i.name === 'invoice_open')).toEqual({
        name: 'invoice_open',
        columns: ['customer_id'],
        unique: false,
        primary: false,
        method: 'btree',
        include: ['total'],
        predicate: "state = 'open'::sales.state",
      });
      expect(invoice.foreignKeys).toEqual([
        {
          name: 'invoice_customer_id_fkey',
          columns: ['customer_id'],
          referencedSchema: 'sales',
          referencedTable: 'customer',
          referencedColumns: ['id'],
          onUpdate: 'NO ACTION',
          onDelete: 'CASCADE',
        },
      ]);
      expect(table(sales, 'open_invoice').kind).toBe('view');
      // A foreign key into a schema left out of the discovery still names its referenced columns.
      const salesOnly = await discoverSchema(postgres(name), { schemas: ['sales', 'pg_catalog'] });
      expect(salesOnly.schemas.map((s) => s.name)).toEqual(['sales']);
      expect(table(tablesOf(salesOnly, 'sales'), 'customer').foreignKeys).toEqual([
        {
          name: 'customer_region_code_region_id_fkey',
          columns: ['region_code', 'region_id'],
          referencedSchema: 'public',
          referencedTable: 'region',
          referencedColumns: ['code', 'id'],
          onUpdate: 'SET NULL',
          onDelete: 'NO ACTION',
        },
      ]);
      expect(table(sales, 'customer').foreignKeys).toEqual(table(tablesOf(salesOnly, 'sales'), 'customer').foreignKeys);

      await c.query(`
        ALTER TABLE sales.customer ADD COLUMN phone character varying(32) DEFAULT 'none' NOT NULL;
        DROP INDEX sales.customer_name;
        CREATE TABLE sales.refund (id integer PRIMARY KEY);
      `);
      const after = await discoverSchema(postgres(name));
      expect(diffSnapshots(before, after)).toEqual([
        {
          change: 'column-added',
          schema: 'sales',
          table: 'customer',
          column: 'phone',
          definition: col('phone', 7, 'character varying(32)', false, "'none'::character varying"),
        },
        {
          change: 'index-removed',
          schema: 'sales',
          table: 'customer',
          index: { name: 'customer_name', columns: ['name'], unique: false, primary: false, method: 'btree' },
        },
        { change: 'table-added', schema: 'sales', table: 'refund', kind: 'table' },
      ]);
      expect(diffSnapshots(after, after)).toEqual([]);
    } finally {
      await c.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('MariaDB: reports exactly an added column, a dropped index and an added table; reads generated columns, geometry, prefix indexes', async () => {
    const name = `vsc_sd_${randomBytes(5).toString('hex')}`;
    const conn = await createConnection(services.mariadb);
    try {
      await conn.query(`CREATE DATABASE ${name}`);
      await conn.query(`
        CREATE TABLE ${name}.shop (
          id int unsigned NOT NULL AUTO_INCREMENT,
          name varchar(100) NOT NULL COMMENT 'display name',
          kind enum('store','kiosk') NOT NULL DEFAULT 'store',
          tags set('a','b') DEFAULT NULL,
          location geometry NOT NULL,
          price decimal(8,2) NOT NULL DEFAULT 0.00,
          price_vat decimal(9,2) AS (price * 1.2) VIRTUAL,
          name_upper varchar(100) AS (upper(name)) STORED,
          PRIMARY KEY (id),
          KEY shop_name_prefix (name(10)),
          KEY shop_kind (kind),
          SPATIAL KEY shop_location (location)
        ) ENGINE=InnoDB COMMENT='the shops'`);
      await conn.query(
        `CREATE TABLE ${name}.sale (shop_id int unsigned NOT NULL, n int NOT NULL, PRIMARY KEY (shop_id, n), CONSTRAINT sale_shop FOREIGN KEY (shop_id) REFERENCES ${name}.shop (id) ON DELETE CASCADE)`,
      );
      const before = await discoverSchema(mariadb(name));
      const shop = table(tablesOf(before, name), 'shop');
      expect(shop.comment).toBe('the shops');
      expect(shop.columns).toEqual([
        col('id', 1, 'int(10) unsigned', false, null, { identity: 'by-default' }),
        col('name', 2, 'varchar(100)', false, null, { comment: 'display name' }),
        col('kind', 3, "enum('store','kiosk')", false, "'store'"),
        col('tags', 4, "set('a','b')", true, null),
        col('location', 5, 'geometry', false, null),
        col('price', 6, 'decimal(8,2)', false, '0.00'),
        col('price_vat', 7, 'decimal(9,2)', true, null, { generated: { expression: '`price` * 1.2', stored: false } }),
        col('name_upper', 8, 'varchar(100)', true, null, { generated: { expression: 'ucase(`name`)', stored: true } }),
      ]);
      expect(shop.indexes).toEqual([
        { name: 'PRIMARY', columns: ['id'], unique: true, primary: true, method: 'BTREE' },
        { name: 'shop_kind', columns: ['kind'], unique: false, primary: false, method: 'BTREE' },
        { name: 'shop_location', columns: ['location(32)'], unique: false, primary: false, method: 'SPATIAL' },
        { name: 'shop_name_prefix', columns: ['name(10)'], unique: false, primary: false, method: 'BTREE' },
      ]);
      expect(table(tablesOf(before, name), 'sale').foreignKeys).toEqual([
        {
          name: 'sale_shop',
          columns: ['shop_id'],
          referencedSchema: name,
          referencedTable: 'shop',
          referencedColumns: ['id'],
          onUpdate: 'RESTRICT',
          onDelete: 'CASCADE',
        },
      ]);

      await conn.query(`ALTER TABLE ${name}.shop ADD COLUMN opened date NULL DEFAULT '2020-01-01'`);
      await conn.query(`ALTER TABLE ${name}.shop DROP INDEX shop_kind`);
      await conn.query(`CREATE TABLE ${name}.refund (id int NOT NULL PRIMARY KEY)`);
      const after = await discoverSchema(mariadb(name));
      expect(diffSnapshots(before, after)).toEqual([
        { change: 'table-added', schema: name, table: 'refund', kind: 'table' },
        {
          change: 'column-added',
          schema: name,
          table: 'shop',
          column: 'opened',
          definition: col('opened', 9, 'date', true, "'2020-01-01'"),
        },
        {
          change: 'index-removed',
          schema: name,
          table: 'shop',
          index: { name: 'shop_kind', columns: ['kind'], unique: false, primary: false, method: 'BTREE' },
        },
      ]);
    } finally {
      await conn.query(`DROP DATABASE IF EXISTS ${name}`);
      await conn.end();
    }
  });
});

describe('the schema.discover agent operation', () => {
  const config = (overrides: { port?: number } = {}) => ({
    ...services.mariadb,
    dialect: 'mysql' as const,
    database: 'sakila',
    statementTimeoutMs: 30_000,
    ...overrides,
  });
  const databases = siteDatabases({ sakila: config() });
  const handler = createSchemaDiscover(databases.get);
  afterAll(() => databases.close());
  const ctx = { signal: new AbortController().signal, progress: () => undefined, attempt: 1 };

  it('returns the snapshot of a configured database', async () => {
    const out = (await handler({ database: 'sakila' }, ctx)) as SchemaSnapshot;
    expect(out).toEqual(await discoverSchema(mariadb('sakila')));
  });

  it('refuses an unknown database and bad input with non-retryable errors', async () => {
    await expect(handler({ database: 'nope' }, ctx)).rejects.toMatchObject({
      type: AgentErrorType.unknownDatabase,
      retryable: false,
    });
    await expect(handler({ db: 'sakila' }, ctx)).rejects.toBeInstanceOf(OperationError);
    await expect(handler({ db: 'sakila' }, ctx)).rejects.toMatchObject({
      type: AgentErrorType.badInput,
      retryable: false,
    });
  });

  it('reports an unreachable database as retryable', async () => {
    const unreachable = siteDatabases({ x: config({ port: 1 }) });
    const down = createSchemaDiscover(unreachable.get);
    await expect(down({ database: 'x' }, ctx)).rejects.toMatchObject({
      type: AgentErrorType.databaseUnavailable,
      retryable: true,
    });
    await unreachable.close();
  });
});

describe('SQL Server type spelling (no SQL Server runs here: only this pure part is tested)', () => {
  const t = (
    type_name: string,
    max_length: number,
    precision = 0,
    scale = 0,
    is_user_defined = false,
    type_schema = 'sys',
  ) => mssqlTypeName({ type_name, max_length, precision, scale, is_user_defined, type_schema });

  it('spells lengths, max, precision and scale as T-SQL DDL does', () => {
    expect(t('nvarchar', 100)).toBe('nvarchar(50)'); // max_length counts bytes: two per character
    expect(t('nvarchar', -1)).toBe('nvarchar(max)');
    expect(t('varchar', 255)).toBe('varchar(255)');
    expect(t('varbinary', -1)).toBe('varbinary(max)');
    expect(t('decimal', 9, 5, 2)).toBe('decimal(5,2)');
    expect(t('datetime2', 8, 27, 7)).toBe('datetime2(7)');
    expect(t('float', 8, 53)).toBe('float');
    expect(t('float', 4, 24)).toBe('float(24)');
    expect(t('int', 4, 10)).toBe('int');
    expect(t('Phone', 40, 0, 0, true, 'dbo')).toBe('dbo.Phone');
  });
});
