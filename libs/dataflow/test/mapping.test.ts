import {
  CanonicalType,
  type ColumnSpec,
  createTableSql,
  DataflowErrorCode,
  mapColumns,
  mssqlCanonicalType,
} from '@vansales/dataflow';
import type { Dialect } from '@vansales/protocol';

const col = (name: string, type: CanonicalType, nullable = true): ColumnSpec => ({
  name,
  type,
  nullable,
  nativeType: 'src',
});
const ddl = (type: CanonicalType, target: Dialect, key = false) =>
  mapColumns([col('c', type)], target, 't', key ? { keyColumns: ['c'] } : {})[0]!.nativeType;

/** canonical type -> [PostgreSQL, MySQL, SQL Server] DDL: the README's table, checked. */
const TABLE: [string, CanonicalType, string, string, string][] = [
  ['tinyint', { kind: 'integer', bits: 8 }, 'smallint', 'TINYINT', 'smallint'],
  ['tinyint unsigned', { kind: 'integer', bits: 8, unsigned: true }, 'smallint', 'TINYINT UNSIGNED', 'tinyint'],
  ['smallint unsigned', { kind: 'integer', bits: 16, unsigned: true }, 'integer', 'SMALLINT UNSIGNED', 'int'],
  ['mediumint', { kind: 'integer', bits: 24 }, 'integer', 'MEDIUMINT', 'int'],
  ['int', { kind: 'integer', bits: 32 }, 'integer', 'INT', 'int'],
  ['int unsigned', { kind: 'integer', bits: 32, unsigned: true }, 'bigint', 'INT UNSIGNED', 'bigint'],
  ['bigint', { kind: 'integer', bits: 64 }, 'bigint', 'BIGINT', 'bigint'],
  [
    'bigint unsigned',
    { kind: 'integer', bits: 64, unsigned: true },
    'numeric(20,0)',
    'BIGINT UNSIGNED',
    'decimal(20,0)',
  ],
  ['decimal(10,2)', { kind: 'decimal', precision: 10, scale: 2 }, 'numeric(10,2)', 'DECIMAL(10,2)', 'decimal(10,2)'],
  ['numeric (unbounded)', { kind: 'decimal' }, 'numeric', 'DECIMAL(65,30)', 'decimal(38,10)'],
  ['float', { kind: 'float', bits: 32 }, 'real', 'FLOAT', 'real'],
  ['double', { kind: 'float', bits: 64 }, 'double precision', 'DOUBLE', 'float(53)'],
  ['boolean', { kind: 'boolean' }, 'boolean', 'BOOLEAN', 'bit'],
  [
    'char(10)',
    { kind: 'text', maxLength: 10, fixed: true },
    'character(10)',
    'CHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    'nchar(10)',
  ],
  [
    'varchar(45) latin1',
    { kind: 'text', maxLength: 45, charset: 'latin1', collation: 'latin1_swedish_ci' },
    'character varying(45)',
    'VARCHAR(45) CHARACTER SET latin1 COLLATE latin1_swedish_ci',
    'varchar(45)',
  ],
  ['text', { kind: 'text' }, 'text', 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', 'nvarchar(max)'],
  [
    'varchar(20000)',
    { kind: 'text', maxLength: 20000 },
    'character varying(20000)',
    'MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    'nvarchar(max)',
  ],
  ['binary(16)', { kind: 'binary', maxLength: 16, fixed: true }, 'bytea', 'BINARY(16)', 'binary(16)'],
  ['bytea', { kind: 'binary' }, 'bytea', 'LONGBLOB', 'varbinary(max)'],
  ['date', { kind: 'date' }, 'date', 'DATE', 'date'],
  ['time(3)', { kind: 'time', precision: 3 }, 'time(3) without time zone', 'TIME(3)', 'time(3)'],
  [
    'timetz',
    { kind: 'time', withTimeZone: true },
    'time with time zone',
    'VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    'nvarchar(32)',
  ],
  [
    'datetime',
    { kind: 'timestamp', precision: 0, withTimeZone: false },
    'timestamp(0) without time zone',
    'DATETIME(0)',
    'datetime2(0)',
  ],
  [
    'timestamptz',
    { kind: 'timestamp', withTimeZone: true },
    'timestamp with time zone',
    'DATETIME(6)',
    'datetimeoffset(6)',
  ],
  [
    'interval',
    { kind: 'interval' },
    'interval',
    'VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    'varchar(100)',
  ],
  ['json', { kind: 'json' }, 'jsonb', 'JSON', 'nvarchar(max)'],
  ['pg json', { kind: 'json', binary: false }, 'json', 'JSON', 'nvarchar(max)'],
  [
    'enum',
    { kind: 'enum', values: ['a', "b'c"] },
    't_c',
    "ENUM('a','b''c') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    'nvarchar(3)',
  ],
  [
    'pg enum type',
    { kind: 'enum', values: ['G', 'PG'], name: 'mpaa_rating' },
    'mpaa_rating',
    "ENUM('G','PG') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    'nvarchar(2)',
  ],
  [
    'set',
    { kind: 'set', values: ['x', 'y'] },
    'text[]',
    "SET('x','y') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    'nvarchar(max)',
  ],
  ['uuid', { kind: 'uuid' }, 'uuid', 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin', 'uniqueidentifier'],
  ['int[]', { kind: 'array', element: { kind: 'integer', bits: 32 } }, 'integer[]', 'JSON', 'nvarchar(max)'],
  ['year', { kind: 'year' }, 'smallint', 'YEAR', 'smallint'],
  ['bit(10)', { kind: 'bit', length: 10 }, 'bit(10)', 'BIT(10)', 'varchar(10)'],
  [
    'varbit',
    { kind: 'bit', varying: true, length: 100 },
    'bit varying(100)',
    'VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin',
    'varchar(100)',
  ],
  [
    'inet',
    { kind: 'other', dialect: 'postgres', name: 'inet' },
    'inet',
    'VARCHAR(43) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    'nvarchar(max)',
  ],
  [
    'tsvector',
    { kind: 'other', dialect: 'postgres', name: 'tsvector' },
    'tsvector',
    'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    'nvarchar(max)',
  ],
  [
    'xml',
    { kind: 'other', dialect: 'postgres', name: 'xml' },
    'xml',
    'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    'xml',
  ],
  ['inet6 (MariaDB)', { kind: 'other', dialect: 'mysql', name: 'inet6' }, 'inet', 'INET6', 'nvarchar(max)'],
];

describe('type mapping', () => {
  it.each(TABLE)('%s -> PostgreSQL %s', (_name, type, pg) => expect(ddl(type, 'postgres')).toBe(pg));
  it.each(TABLE)('%s -> MySQL', (_name, type, _pg, my) => expect(ddl(type, 'mysql')).toBe(my));
  it.each(TABLE)('%s -> SQL Server', (_name, type, _pg, _my, ms) => expect(ddl(type, 'mssql')).toBe(ms));

  it('gives key columns index-safe types', () => {
    expect(ddl({ kind: 'text' }, 'mysql', true)).toBe('VARCHAR(768) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
    expect(ddl({ kind: 'text', maxLength: 40 }, 'mysql', true)).toBe(
      'VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    );
    expect(ddl({ kind: 'binary' }, 'mysql', true)).toBe('VARBINARY(3072)');
    expect(ddl({ kind: 'text' }, 'mssql', true)).toBe('nvarchar(450)');
    const two = mapColumns([col('a', { kind: 'text' }), col('b', { kind: 'text' })], 'mysql', 't', {
      keyColumns: ['a', 'b'],
    });
    expect(two.map((c) => c.nativeType)).toEqual([
      'VARCHAR(384) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
      'VARCHAR(384) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
    ]);
    expect(two.every((c) => !c.nullable)).toBe(true);
  });

  it('keeps a MySQL row under 64 KB by turning the widest VARCHARs into TEXT', () => {
    const wide = Array.from({ length: 20 }, (_, i) => col(`c${i}`, { kind: 'text', maxLength: 1000 }));
    const mapped = mapColumns(wide, 'mysql', 't');
    const varchars = mapped.filter((c) => c.nativeType.startsWith('VARCHAR'));
    expect(varchars.length).toBeGreaterThan(10);
    expect(varchars.length * 4002).toBeLessThan(65_535);
    expect(mapped.filter((c) => c.nativeType.startsWith('TEXT')).length).toBe(20 - varchars.length);
  });

  it('is idempotent on its own output', () => {
    for (const target of ['postgres', 'mysql', 'mssql'] as const) {
      const once = mapColumns(
        TABLE.map(([n, t]) => col(n, t)),
        target,
        't',
      );
      expect(mapColumns(once, target, 't')).toEqual(once);
    }
  });

  it('refuses unmappable types naming table and column', () => {
    const geo = col('location', { kind: 'unsupported', dialect: 'mysql', name: 'geometry' });
    for (const target of ['postgres', 'mysql', 'mssql'] as const) {
      expect(() => mapColumns([col('id', { kind: 'integer', bits: 32 }), geo], target, 'places')).toThrow(
        expect.objectContaining({
          code: DataflowErrorCode.UNMAPPABLE_TYPE,
          table: 'places',
          column: 'location',
          message: expect.stringContaining('places.location'),
        }),
      );
    }
    expect(() => mapColumns([col('n', { kind: 'decimal', precision: 80, scale: 2 })], 'mysql', 't')).toThrow(
      expect.objectContaining({ code: DataflowErrorCode.UNMAPPABLE_TYPE, column: 'n' }),
    );
    expect(() => mapColumns([col('n', { kind: 'decimal', precision: 50, scale: 2 })], 'mssql', 't')).toThrow(
      expect.objectContaining({ code: DataflowErrorCode.UNMAPPABLE_TYPE }),
    );
    expect(() =>
      mapColumns([col('id', { kind: 'integer', bits: 32 })], 'mysql', 't', { keyColumns: ['nope'] }),
    ).toThrow(expect.objectContaining({ code: DataflowErrorCode.BAD_REQUEST }));
  });

  it('writes CREATE TABLE for every dialect, SQL Server included', () => {
    const columns = [
      col('id', { kind: 'integer', bits: 64, unsigned: true }, false),
      col('name', { kind: 'text' }),
      col('rating', { kind: 'enum', values: ['G', 'PG'] }),
      col('tags', { kind: 'set', values: ['a', 'b'] }),
    ];
    const sql = (d: Dialect) =>
      createTableSql(d, { schema: 'sales', name: 'films' }, mapColumns(columns, d, 'films', { keyColumns: ['id'] }), [
        'id',
      ]);
    expect(sql('mssql')).toBe(
      "CREATE TABLE [sales].[films] (\n  [id] decimal(20,0) NOT NULL,\n  [name] nvarchar(max),\n  [rating] nvarchar(2) CHECK ([rating] IN (N'G', N'PG')),\n  [tags] nvarchar(max),\n  PRIMARY KEY ([id])\n)",
    );
    expect(sql('postgres')).toBe(
      'CREATE TABLE "sales"."films" (\n  "id" numeric(20,0) NOT NULL,\n  "name" text,\n  "rating" "sales"."films_rating",\n  "tags" text[] CHECK ("tags" <@ ARRAY[\'a\', \'b\']::text[]),\n  PRIMARY KEY ("id")\n)',
    );
    expect(sql('mysql')).toContain('`id` BIGINT UNSIGNED NOT NULL');
  });

  it('reads SQL Server type names', () => {
    expect(mssqlCanonicalType('nvarchar(50)')).toEqual({ kind: 'text', maxLength: 50 });
    expect(mssqlCanonicalType('nvarchar(max)')).toEqual({ kind: 'text' });
    expect(mssqlCanonicalType('decimal(10,2)')).toEqual({ kind: 'decimal', precision: 10, scale: 2 });
    expect(mssqlCanonicalType('datetimeoffset(7)')).toEqual({ kind: 'timestamp', precision: 7, withTimeZone: true });
    expect(mssqlCanonicalType('tinyint')).toEqual({ kind: 'integer', bits: 8, unsigned: true });
    expect(mssqlCanonicalType('geography')).toEqual({ kind: 'unsupported', dialect: 'mssql', name: 'geography' });
  });

  it('validates canonical types as JSON (manifests)', () => {
    const nested = {
      kind: 'array',
      element: { kind: 'array', element: { kind: 'timestamp', withTimeZone: true, precision: 3 } },
    };
    expect(CanonicalType.parse(JSON.parse(JSON.stringify(nested)))).toEqual(nested);
    expect(CanonicalType.safeParse({ kind: 'integer', bits: 12 }).success).toBe(false);
    expect(CanonicalType.safeParse({ kind: 'blob' }).success).toBe(false);
    for (const [, t] of TABLE) expect(CanonicalType.parse(t)).toEqual(t);
  });
});
