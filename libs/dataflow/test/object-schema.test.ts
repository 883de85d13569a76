import { DataflowErrorCode, mapColumns, type ColumnSpec } from '@vansales/dataflow';
import { DROP_PAYROLL_TYPE, hostileManifests } from '@vansales/test-kit';
import { parseObjectSchema } from '../src/pipeline/object-schema';
import { rowChecker } from '../src/values/check-values';

const col = (name: string, type: object, nullable = true) => ({
  name,
  type: type as ColumnSpec['type'],
  nullable,
  nativeType: 'native',
});

/** Every kind, as extracts from PostgreSQL and MariaDB write them (mapping.test.ts has where each comes from). */
const REAL_COLUMNS = [
  col('id', { kind: 'integer', bits: 64, unsigned: true }, false),
  col('small', { kind: 'integer', bits: 8 }),
  col('price', { kind: 'decimal', precision: 10, scale: 2 }),
  col('money', { kind: 'decimal' }),
  col('negative_scale', { kind: 'decimal', precision: 5, scale: -2 }),
  col('ratio', { kind: 'float', bits: 32 }),
  col('flag', { kind: 'boolean' }),
  col('title', { kind: 'text', maxLength: 255, charset: 'utf8mb4', collation: 'utf8mb4_0900_ai_ci' }),
  col('code', { kind: 'text', maxLength: 3, fixed: true, charset: 'latin1', collation: 'latin1_swedish_ci' }),
  col('body', { kind: 'text' }),
  col('photo', { kind: 'binary', maxLength: 16, fixed: true }),
  col('born', { kind: 'date' }),
  col('alarm', { kind: 'time', precision: 3, withTimeZone: true }),
  col('seen', { kind: 'timestamp', precision: 6, withTimeZone: true }),
  col('span', { kind: 'interval' }),
  col('doc', { kind: 'json', binary: true }),
  col('rating', { kind: 'enum', values: ['G', 'PG', "it's"], name: 'mpaa_rating' }),
  col('features', { kind: 'set', values: ['Trailers', 'Deleted Scenes'] }),
  col('uid', { kind: 'uuid' }),
  col('tags', { kind: 'array', element: { kind: 'text' } }),
  col('grid', { kind: 'array', element: { kind: 'enum', values: ['a'], name: 'Odd "Enum"' } }),
  col('year', { kind: 'year' }),
  col('bits', { kind: 'bit', length: 8, varying: true }),
  col('during', { kind: 'other', dialect: 'postgres', name: 'tstzrange' }),
  col('custom_range', { kind: 'other', dialect: 'postgres', name: 'public.floatrange' }),
  col('quoted_range', { kind: 'other', dialect: 'postgres', name: '"My ""Range"""' }),
  col('moded', { kind: 'other', dialect: 'postgres', name: 'public.thing(10,2)' }),
  col('addr', { kind: 'other', dialect: 'mysql', name: 'inet6' }),
  col('geo', { kind: 'unsupported', dialect: 'mysql', name: 'geometry' }),
];

describe('parseObjectSchema: the one manifest check of every load', () => {
  it('accepts what extracts write (every kind, masked columns, dialect and source)', () => {
    const schema = {
      columns: [...REAL_COLUMNS, { name: 'email', type: { kind: 'text' }, nullable: true, nativeType: 'masked text' }],
      keyColumns: ['id'],
      dialect: 'mysql',
      source: 'sakila.film',
    };
    expect(parseObjectSchema(schema, 'o1')).toEqual(schema);
  });

  it('names the object, the column (number and name) and the field', () => {
    expect(() =>
      parseObjectSchema(
        {
          columns: [
            col('id', { kind: 'integer', bits: 32 }),
            col('evil', { kind: 'other', dialect: 'postgres', name: DROP_PAYROLL_TYPE }),
          ],
          keyColumns: [],
        },
        'o1',
      ),
    ).toThrow(
      expect.objectContaining({
        code: DataflowErrorCode.BAD_OBJECT,
        column: 'evil',
        message: expect.stringMatching(
          /^buffer object o1 has an unusable schema: column 2 \("evil"\) type\.name: "text\); DROP TABLE public\.payroll; CREATE TABLE zz \(\\"id\\" int" is not a PostgreSQL type name/,
        ),
      }),
    );
  });

  it.each(hostileManifests().map((c) => [c.name, c] as const))('refuses a manifest with %s', (_name, hostile) => {
    let message = '';
    try {
      parseObjectSchema(hostile.schema, 'o1');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(hostile.names);
    // A refusal is a message a person reads, not the hostile input echoed back at length.
    expect(message.length).toBeLessThan(1000);
  });
});

describe('the DDL mappers check names that become DDL text, whoever wrote the type', () => {
  it.each([
    ['postgres', { kind: 'other', dialect: 'postgres', name: DROP_PAYROLL_TYPE }],
    ['postgres', { kind: 'array', element: { kind: 'other', dialect: 'postgres', name: 'int4range; --' } }],
    ['mysql', { kind: 'other', dialect: 'mysql', name: 'INT); DROP TABLE payroll; --' }],
    ['mysql', { kind: 'text', charset: 'utf8mb4 COLLATE x; DROP' }],
    ['mysql', { kind: 'text', charset: 'utf8mb4', collation: 'utf8mb4_bin /*' }],
    ['mssql', { kind: 'other', dialect: 'mssql', name: 'xml); DROP TABLE payroll; --' }],
  ] as const)('%s refuses %j', (dialect, type) => {
    expect(() =>
      mapColumns([{ name: 'c', type, nullable: true, nativeType: 'x' } as ColumnSpec], dialect, 't'),
    ).toThrow(expect.objectContaining({ code: DataflowErrorCode.UNMAPPABLE_TYPE, column: 'c' }));
  });

  it('keeps mapping the names real servers print', () => {
    const mapped = mapColumns(
      REAL_COLUMNS.filter((c) => c.type.kind === 'other' && c.type.dialect === 'postgres') as ColumnSpec[],
      'postgres',
      't',
    );
    expect(mapped.map((c) => c.nativeType)).toEqual([
      'tstzrange',
      'public.floatrange',
      '"My ""Range"""',
      'public.thing(10,2)',
    ]);
    expect(mapColumns([col('t', REAL_COLUMNS[7]!.type) as ColumnSpec], 'mysql', 't')[0]!.nativeType).toBe(
      'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci',
    );
  });
});

describe('rowChecker: chunk values against the declared types', () => {
  const columns = REAL_COLUMNS as ColumnSpec[];
  /** One canonical value per column of REAL_COLUMNS (README, Canonical values), then equivalents writers accept. */
  const canonical: unknown[] = [
    '18446744073709551615',
    -128,
    '4.90',
    'NaN',
    '-1.2e3',
    1.5,
    true,
    'Ærøskøbing',
    'abc',
    'any text',
    { $binary: 'AAECAwQFBgcICQoLDA0ODw==' },
    '0044-03-15 BC',
    '10:00:00.123+05:30',
    '2024-02-29T23:59:59.999999Z',
    'P1Y2M3DT4H5M6.789S',
    { nested: [1, '12345678901234567890'] },
    "it's",
    ['Trailers'],
    '0e8a4f2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b',
    ['a', null, 'b'],
    [['a'], [null]],
    2024,
    '0101',
    '["2024-01-01 00:00:00+00","2024-02-01 00:00:00+00")',
    '[1.5,2.5)',
    'x',
    'y',
    '::1',
    'POINT(1 1)',
  ];

  it('accepts canonical values of every kind, and nulls where allowed', () => {
    const check = rowChecker(columns);
    expect(check([canonical])).toBeUndefined();
    expect(check([canonical.map((v, i) => (i === 0 ? 5 : null))])).toBeUndefined();
    expect(
      check([[...canonical.slice(0, 2), 4.9, 'Infinity', '-Infinity', 'NaN', ...canonical.slice(6)]]),
    ).toBeUndefined();
    expect(check([[...canonical.slice(0, 13), '2024-02-29 23:59:59', ...canonical.slice(14)]])).toBeUndefined();
  });

  it.each([
    [0, 1.5, 'is not an integer'],
    [0, '1; DROP', 'is not an integer'],
    [2, 'four', 'is not a decimal'],
    [5, 'fast', 'is not a float'],
    [6, 'true', 'is not a boolean'],
    [8, 'abcd', 'longer than the declared 3 characters'],
    [10, { $binary: '***' }, 'is not binary'],
    [11, '15/03/2024', 'is not a date'],
    [13, '2024-02-29 23:59:59; DROP', 'is not a timestamp'],
    [16, 'NC-17', "is not one of the enum's labels"],
    [17, ['Trailers', 'Commentaries'], "has a member that is not one of the set's labels"],
    [18, 'not-a-uuid', 'is not a UUID'],
    [19, 'a,b', 'is not an array'],
    [19, ['a', 1], 'has an element that is not a string'],
    [22, '0121', 'is not a bit string'],
    [23, 42, 'is not a string'],
  ] as [number, unknown, string][])('refuses column %i = %j', (index, value, why) => {
    const row = [...canonical];
    row[index] = value;
    const problem = rowChecker(columns)([canonical, row]);
    expect(problem).toMatchObject({ row: 1, column: columns[index]!.name });
    expect(problem!.message).toContain(why);
  });
});
