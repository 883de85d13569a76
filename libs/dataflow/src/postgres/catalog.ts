import type { ClientBase, FieldDef } from 'pg';
import { pgCanonicalType, type PgTypeInfo } from '../mapping/postgres';
import type { ColumnSpec } from '../types/canonical-type';
import { type TableRef } from '@vansales/protocol';
import type { TableDescription, TableInfo } from '../types/data-connection';

/** The types asked for plus every base and element type they lead to (domains of arrays of enums...). */
const TYPES_SQL = `
  WITH RECURSIVE t(oid) AS (
    SELECT unnest($1::oid[])
    UNION
    SELECT x.oid FROM pg_type p JOIN t ON p.oid = t.oid
      CROSS JOIN LATERAL (VALUES (p.typbasetype), (CASE WHEN p.typcategory = 'A' THEN p.typelem ELSE 0 END)) AS x(oid)
     WHERE x.oid <> 0
  )
  SELECT p.oid::int AS oid, p.typname AS name, n.nspname AS schema, p.typtype::text AS typtype, p.typbasetype::int AS base_type,
         p.typtypmod AS base_typmod, p.typelem::int AS element, p.typcategory::text AS category, format_type(p.oid, NULL) AS formatted,
         CASE WHEN p.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = p.oid ORDER BY e.enumsortorder) END AS labels
    FROM pg_type p JOIN pg_namespace n ON n.oid = p.typnamespace
   WHERE p.oid IN (SELECT oid FROM t)`;

interface TypeRow {
  oid: number;
  name: string;
  schema: string;
  typtype: string;
  base_type: number;
  base_typmod: number;
  element: number;
  category: string;
  formatted: string;
  labels: string[] | null;
}

export async function loadTypes(client: ClientBase, oids: number[]): Promise<Map<number, PgTypeInfo>> {
  const { rows } = await client.query<TypeRow>(TYPES_SQL, [[...new Set(oids)]]);
  return new Map(
    rows.map((r) => [
      r.oid,
      {
        oid: r.oid,
        name: r.name,
        schema: r.schema,
        typtype: r.typtype,
        baseType: r.base_type,
        baseTypmod: r.base_typmod,
        element: r.element,
        category: r.category,
        formatted: r.formatted,
        labels: r.labels,
      },
    ]),
  );
}

/** Relation oid of a table (regular, partitioned, view, matview, foreign), or undefined. */
async function relationOid(client: ClientBase, table: TableRef): Promise<number | undefined> {
  const { rows } = await client.query<{ oid: number }>(
    `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $2 AND n.nspname = coalesce($1, current_schema()) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [table.schema ?? null, table.name],
  );
  return rows[0]?.oid;
}

export async function pgTableExists(client: ClientBase, table: TableRef): Promise<boolean> {
  return (await relationOid(client, table)) !== undefined;
}

export async function describePgTable(client: ClientBase, table: TableRef): Promise<TableDescription | undefined> {
  return (await describeTableWithBases(client, table))?.description;
}

/**
 * The base type of each column as the COPY writer sees it: domains resolved, 'enum' for enum
 * types, 'array' for arrays, the pg_catalog type name otherwise ('other' outside pg_catalog).
 */
function baseTypeName(oid: number, types: ReadonlyMap<number, PgTypeInfo>): string {
  let t = types.get(oid);
  for (let depth = 0; t && t.typtype === 'd' && depth < 10; depth++) t = types.get(t.baseType);
  if (!t) return 'other';
  if (t.typtype === 'e') return 'enum';
  if (t.category === 'A') return 'array';
  return t.schema === 'pg_catalog' ? t.name : 'other';
}

export async function describeTableWithBases(
  client: ClientBase,
  table: TableRef,
): Promise<{ description: TableDescription; bases: string[] } | undefined> {
  const oid = await relationOid(client, table);
  if (oid === undefined) return undefined;
  const { rows } = await client.query<{
    name: string;
    type: number;
    typmod: number;
    notnull: boolean;
    formatted: string;
  }>(
    `SELECT a.attname AS name, a.atttypid::int AS type, a.atttypmod AS typmod, a.attnotnull AS notnull, format_type(a.atttypid, a.atttypmod) AS formatted
       FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const types = await loadTypes(
    client,
    rows.map((r) => r.type),
  );
  const pk = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_constraint con
       CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
      WHERE con.conrelid = $1 AND con.contype = 'p' ORDER BY k.ord`,
    [oid],
  );
  return {
    description: {
      columns: rows.map((r) => ({
        name: r.name,
        type: pgCanonicalType(r.type, r.typmod, types),
        nullable: !r.notnull,
        nativeType: r.formatted,
      })),
      primaryKey: pk.rows.map((r) => r.name),
    },
    bases: rows.map((r) => baseTypeName(r.type, types)),
  };
}

/** Result columns from a RowDescription; nullability from the source column when there is one. */
export async function describeFields(client: ClientBase, fields: FieldDef[]): Promise<ColumnSpec[]> {
  const types = await loadTypes(
    client,
    fields.map((f) => f.dataTypeID),
  );
  const info = await client.query<{ formatted: string; notnull: boolean | null }>(
    `SELECT format_type(f.type, f.typmod) AS formatted,
            (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = f.rel AND a.attnum = f.num) AS notnull
       FROM unnest($1::oid[], $2::int[], $3::oid[], $4::int[]) WITH ORDINALITY AS f(type, typmod, rel, num, ord) ORDER BY f.ord`,
    [
      fields.map((f) => f.dataTypeID),
      fields.map((f) => f.dataTypeModifier),
      fields.map((f) => f.tableID || 0),
      fields.map((f) => f.columnID || 0),
    ],
  );
  return fields.map((f, i) => ({
    name: f.name,
    type: pgCanonicalType(f.dataTypeID, f.dataTypeModifier, types),
    nullable: info.rows[i]?.notnull !== true,
    nativeType: info.rows[i]?.formatted ?? String(f.dataTypeID),
  }));
}

export async function listPgTables(client: ClientBase, schema: string | undefined): Promise<TableInfo[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    relkind: string;
    ispartition: boolean;
    parent_schema: string | null;
    parent_name: string | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, c.relispartition AS ispartition,
            pn.nspname AS parent_schema, pc.relname AS parent_name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
       LEFT JOIN pg_class pc ON pc.oid = i.inhparent
       LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE n.nspname = coalesce($1, current_schema()) AND c.relkind IN ('r', 'p')
      ORDER BY c.relname`,
    [schema ?? null],
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    kind: r.ispartition ? 'partition' : r.relkind === 'p' ? 'partitioned-table' : 'table',
    ...(r.ispartition && r.parent_name
      ? { partitionOf: { schema: r.parent_schema ?? r.schema, name: r.parent_name } }
      : {}),
  }));
}

/** Labels of an existing enum type, or undefined. */
export async function enumLabels(
  client: ClientBase,
  schema: string | undefined,
  name: string,
): Promise<string[] | undefined> {
  const { rows } = await client.query<{ labels: string[] | null; typtype: string }>(
    `SELECT t.typtype::text AS typtype, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = $2 AND n.nspname = coalesce($1, current_schema())`,
    [schema ?? null, name],
  );
  if (!rows[0]) return undefined;
  return rows[0].typtype === 'e' ? (rows[0].labels ?? []) : [];
}
