/**
 * Buffer manifest schemas an extracting agent could write to attack the site (or the cloud) that
 * loads the object: DDL injection through type names, charsets and collations (quotes, comments,
 * semicolons, NUL), oversized fields and shapes the format does not have. Each must be refused
 * before any DDL is built; `names` is what the refusal must name (column number, name and field).
 * The dataflow integration test and the end-to-end test (agent and cloud loads) share this list.
 */
export interface HostileCase {
  name: string;
  schema: unknown;
  names: string;
}

const id = { name: 'id', type: { kind: 'integer', bits: 32 }, nullable: false, nativeType: 'integer' };
const evil = (type: unknown, name = 'evil') => ({
  columns: [id, { name, type, nullable: true, nativeType: 'text' }],
  keyColumns: ['id'],
});
const at = (field: string) => `column 2 ("evil") ${field}`;

/** The finding's own payload: a PostgreSQL `other` type whose name closes the column list and drops a table. */
export const DROP_PAYROLL_TYPE = 'text); DROP TABLE public.payroll; CREATE TABLE zz ("id" int';

export function hostileManifests(): HostileCase[] {
  return [
    {
      name: 'a DROP TABLE in a PostgreSQL type name',
      schema: evil({ kind: 'other', dialect: 'postgres', name: DROP_PAYROLL_TYPE }),
      names: at('type.name'),
    },
    {
      name: 'a line comment in a PostgreSQL type name',
      schema: evil({ kind: 'other', dialect: 'postgres', name: 'int4range -- ' }),
      names: at('type.name'),
    },
    {
      name: 'a block comment in a PostgreSQL type name',
      schema: evil({ kind: 'other', dialect: 'postgres', name: 'int4range/**/' }),
      names: at('type.name'),
    },
    {
      name: 'an unclosed quote in a PostgreSQL type name',
      schema: evil({ kind: 'other', dialect: 'postgres', name: '"payroll' }),
      names: at('type.name'),
    },
    {
      name: 'a NUL in a PostgreSQL type name',
      schema: evil({ kind: 'other', dialect: 'postgres', name: 'text\u0000; DROP TABLE payroll' }),
      names: at('type.name'),
    },
    {
      name: 'a very long type name',
      schema: evil({ kind: 'other', dialect: 'postgres', name: 'a'.repeat(100_000) }),
      names: at('type.name'),
    },
    {
      name: 'a MySQL type name that is not inet4 or inet6',
      schema: evil({ kind: 'other', dialect: 'mysql', name: 'INT, salary INT) SELECT * FROM payroll; --' }),
      names: at('type.name'),
    },
    {
      name: 'a statement in a MySQL charset',
      schema: evil({ kind: 'text', charset: 'utf8mb4; DROP TABLE payroll; --' }),
      names: at('type.charset'),
    },
    {
      name: 'a CREATE ... SELECT in a MySQL charset',
      schema: evil({ kind: 'text', charset: 'utf8mb4, salary DECIMAL(10,2)) SELECT salary FROM payroll /*' }),
      names: at('type.charset'),
    },
    {
      name: 'a quote in a MySQL collation',
      schema: evil({ kind: 'text', charset: 'utf8mb4', collation: "utf8mb4_bin' OR '1" }),
      names: at('type.collation'),
    },
    {
      name: 'a type field the format does not have',
      schema: evil({ kind: 'text', ddl: 'TEXT); DROP TABLE payroll; --' }),
      names: at('type'),
    },
    {
      name: 'an unknown type kind',
      schema: evil({ kind: 'raw', sql: 'DROP TABLE payroll' }),
      names: at('type.kind'),
    },
    {
      name: 'a length no server has',
      schema: evil({ kind: 'text', maxLength: 1e21 }),
      names: at('type.maxLength'),
    },
    {
      name: 'arrays nested past any column type',
      schema: evil({
        kind: 'array',
        element: { kind: 'array', element: { kind: 'array', element: { kind: 'integer', bits: 32 } } },
      }),
      names: at('type.element'),
    },
    {
      name: 'a very long column name',
      schema: { columns: [id, { ...id, name: 'c'.repeat(10_000) }], keyColumns: ['id'] },
      names: 'column 2 (',
    },
    {
      name: 'a control character in a column name',
      schema: evil({ kind: 'text' }, 'evil\u0000; DROP TABLE payroll'),
      names: 'column 2 ("evil\\u0000; DROP TABLE payroll") name',
    },
    {
      name: 'a key column that is not a column',
      schema: { columns: [id], keyColumns: ['id', 'salary'] },
      names: 'keyColumns.1',
    },
    {
      name: 'more columns than any table has',
      schema: {
        columns: Array.from({ length: 5000 }, (_, i) => ({ ...id, name: `c${i}` })),
        keyColumns: [],
      },
      names: 'columns',
    },
    {
      name: 'a field the manifest does not have',
      schema: { ...evil({ kind: 'text' }), postLoadSql: 'DROP TABLE payroll' },
      names: 'schema',
    },
  ];
}
