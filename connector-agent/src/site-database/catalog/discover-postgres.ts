import type { DataConnection } from '@vansales/dataflow';
import type { ColumnSnapshot, ReferentialAction, SchemaSnapshot, TableKind, TableSnapshot } from '@vansales/protocol';
import { assembleSnapshot, type DiscoverOptions, type RawTable } from './assemble';

const KINDS: Record<string, TableKind> = {
  r: 'table',
  v: 'view',
  m: 'materialized-view',
  p: 'partitioned-table',
  f: 'foreign-table',
};
const ACTIONS: Record<string, ReferentialAction> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/**
 * Schemas in scope: the ones asked for ($1, or null for all), never PostgreSQL's own (pg_catalog,
 * pg_toast, pg_temp_N...: the pg_ prefix is reserved) nor information_schema.
 * Every later statement takes the chosen schemas' oids as $1.
 */
const SCHEMAS = `
  SELECT n.oid::text AS oid, n.nspname AS name FROM pg_namespace n
   WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))`;
const IN_SCOPE = `c.relkind IN ('r', 'v', 'm', 'p', 'f') AND c.relnamespace = ANY($1::oid[])`;

/**
 * One statement per kind of object, each over every table at once, so the number of round trips
 * does not grow with the number of tables. All run in one READ ONLY transaction (one consistent
 * view of the catalog) with search_path set to pg_catalog only, so every name outside it comes
 * out schema-qualified, exactly as pg_dump prints it, whatever the role's own search_path is.
 * Column names of keys and indexes are looked up here from the column list rather than by
 * per-row subqueries, and the deparsing functions are called only where there is something to
 * deparse: they cost far more than reading the catalog.
 */
const queries = (v: number) => ({
  relations: `
    SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
           c.reltuples::float8 AS reltuples, pn.nspname AS parent_schema, pc.relname AS parent_name
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND ${v >= 100000 ? 'c.relispartition' : 'false'}
      LEFT JOIN pg_class pc ON pc.oid = i.inhparent
      LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
     WHERE ${IN_SCOPE}`,
  // A default never refers to a column, so it deparses without its table (much faster);
  // a generation expression does, so it gets its table.
  columns: `
    SELECT a.attrelid::text AS oid, a.attnum::int AS num, a.attname AS name,
           format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS nullable,
           ${v >= 120000 ? 'a.attgenerated::text' : "''"} AS generated, ${v >= 100000 ? 'a.attidentity::text' : "''"} AS identity,
           CASE WHEN a.atthasdef THEN (SELECT pg_get_expr(ad.adbin, ${v >= 120000 ? "CASE WHEN a.attgenerated <> '' THEN ad.adrelid ELSE 0 END" : '0'})
                                         FROM pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) END AS expr
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
     WHERE a.attnum > 0 AND NOT a.attisdropped AND ${IN_SCOPE}`,
  comments: `
    SELECT d.objoid::text AS oid, d.objsubid AS num, d.description AS text
      FROM pg_description d
      JOIN pg_class c ON c.oid = d.objoid
     WHERE d.classoid = 'pg_class'::regclass AND ${IN_SCOPE}`,
  constraints: `
    SELECT con.conrelid::text AS oid, con.conname AS name, con.contype::text AS type, con.conkey AS keys,
           con.confrelid::text AS ref_oid, fn.nspname AS ref_schema, fc.relname AS ref_table, con.confkey AS ref_keys,
           con.confupdtype::text AS on_update, con.confdeltype::text AS on_delete
      FROM pg_constraint con
      JOIN pg_class c ON c.oid = con.conrelid
      LEFT JOIN pg_class fc ON fc.oid = con.confrelid
      LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
     WHERE con.contype IN ('p', 'f') AND ${IN_SCOPE}
       ${
         // A foreign key to a partitioned table is mirrored, for each partition it references, by an
         // internal constraint on the same referencing table; those are bookkeeping, not keys.
         v >= 110000
           ? 'AND NOT EXISTS (SELECT 1 FROM pg_constraint pcon WHERE pcon.oid = con.conparentid AND pcon.conrelid = con.conrelid)'
           : ''
       }`,
  indexes: `
    SELECT i.indrelid::text AS oid, ic.relname AS name, i.indisunique AS unique, i.indisprimary AS primary,
           am.amname AS method, ${v >= 110000 ? 'i.indnkeyatts' : 'i.indnatts'}::int AS key_count, i.indkey::int2[] AS keys,
           CASE WHEN i.indexprs IS NOT NULL
                THEN ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnatts::int) k ORDER BY k) END AS exprs,
           pg_get_expr(i.indpred, i.indrelid, true) AS predicate
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      JOIN pg_am am ON am.oid = ic.relam
      JOIN pg_class c ON c.oid = i.indrelid
     WHERE ${IN_SCOPE}`,
  // Column names of referenced tables outside the discovered schemas.
  foreignColumns: `SELECT a.attrelid::text AS oid, a.attnum::int AS num, a.attname AS name FROM pg_attribute a WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0`,
});

interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  relkind: string;
  reltuples: number | null;
  parent_schema: string | null;
  parent_name: string | null;
}
interface ColumnRow {
  oid: string;
  num: number;
  name: string;
  data_type: string;
  nullable: boolean;
  expr: string | null;
  generated: string;
  identity: string;
}
interface CommentRow {
  oid: string;
  num: number;
  text: string;
}
interface ConstraintRow {
  oid: string;
  name: string;
  type: 'p' | 'f';
  keys: number[];
  ref_oid: string;
  ref_schema: string | null;
  ref_table: string | null;
  ref_keys: number[] | null;
  on_update: string;
  on_delete: string;
}
interface IndexRow {
  oid: string;
  name: string;
  unique: boolean;
  primary: boolean;
  method: string;
  key_count: number;
  keys: number[];
  exprs: string[] | null;
  predicate: string | null;
}
interface NameRow {
  oid: string;
  num: number;
  name: string;
}
interface CatalogRows {
  database: string;
  schemas: { oid: string; name: string }[];
  relations: RelationRow[];
  columns: ColumnRow[];
  comments: CommentRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  foreignColumns: NameRow[];
}

/**
 * search_path is pg_catalog only, so every name outside it comes out schema-qualified, as pg_dump
 * prints it; IntervalStyle is PostgreSQL's default, so interval defaults read as `'1 day'::interval`
 * whatever the data connection's session prefers for row values.
 */
export async function discoverPostgres(conn: DataConnection, options: DiscoverOptions = {}): Promise<SchemaSnapshot> {
  return conn.inspect(
    async (query) => {
      await query('SET LOCAL search_path = pg_catalog');
      await query('SET LOCAL IntervalStyle = postgres');
      const [head] = await query<{ database: string; version: number }>(
        "SELECT current_database() AS database, current_setting('server_version_num')::int AS version",
      );
      const { database, version } = head!;
      const q = queries(version);
      // Sequential on purpose: one connection, one transaction, one consistent catalog view.
      const schemas = await query<{ oid: string; name: string }>(SCHEMAS, [options.schemas ?? null]);
      const scope = [schemas.map((s) => s.oid)];
      const relations = await query<RelationRow>(q.relations, scope);
      const columns = await query<ColumnRow>(q.columns, scope);
      const comments = await query<CommentRow>(q.comments, scope);
      const constraints = await query<ConstraintRow>(q.constraints, scope);
      const indexes = await query<IndexRow>(q.indexes, scope);
      const inScope = new Set(relations.map((r) => r.oid));
      const outside = [
        ...new Set(constraints.filter((k) => k.type === 'f' && !inScope.has(k.ref_oid)).map((k) => k.ref_oid)),
      ];
      const foreignColumns = outside.length ? await query<NameRow>(q.foreignColumns, [outside]) : [];
      return buildSnapshot({ database, schemas, relations, columns, comments, constraints, indexes, foreignColumns });
    },
    { signal: options.signal },
  );
}

function buildSnapshot(rows: CatalogRows): SchemaSnapshot {
  const names = new Map<string, Map<number, string>>();
  const nameOf = (r: NameRow) => {
    let m = names.get(r.oid);
    if (!m) names.set(r.oid, (m = new Map()));
    m.set(r.num, r.name);
  };
  rows.columns.forEach(nameOf);
  rows.foreignColumns.forEach(nameOf);
  const columnNames = (oid: string, nums: number[] | null) =>
    (nums ?? []).map((n) => names.get(oid)?.get(n) ?? String(n));
  const comments = new Map(rows.comments.map((c) => [`${c.oid}:${c.num}`, c.text]));

  const tables = new Map<string, RawTable>();
  for (const r of rows.relations) {
    const kind = KINDS[r.relkind]!;
    const comment = comments.get(`${r.oid}:0`);
    const table: TableSnapshot = {
      name: r.name,
      kind,
      ...(comment !== undefined ? { comment } : {}),
      ...(r.parent_name !== null
        ? { partitionOf: r.parent_schema === r.schema ? r.parent_name : `${r.parent_schema}.${r.parent_name}` }
        : {}),
      columns: [],
      primaryKey: null,
      foreignKeys: [],
      indexes: [],
      // -1 (PostgreSQL 14+) means never analysed.
      rowEstimate: r.reltuples !== null && r.reltuples >= 0 && kind !== 'view' ? Math.round(r.reltuples) : null,
    };
    tables.set(r.oid, { schema: r.schema, table });
  }

  const byTable = new Map<string, ColumnRow[]>();
  for (const c of rows.columns) {
    const list = byTable.get(c.oid);
    if (list) list.push(c);
    else byTable.set(c.oid, [c]);
  }
  for (const [oid, cols] of byTable) {
    const t = tables.get(oid);
    if (!t) continue;
    // attnum keeps the gaps of dropped columns; positions are dense.
    cols.sort((a, b) => a.num - b.num);
    t.table.columns = cols.map((c, i): ColumnSnapshot => {
      const comment = comments.get(`${oid}:${c.num}`);
      return {
        name: c.name,
        position: i + 1,
        dataType: c.data_type,
        nullable: c.nullable,
        default: c.generated ? null : c.expr,
        ...(comment !== undefined ? { comment } : {}),
        ...(c.generated ? { generated: { expression: c.expr ?? '', stored: c.generated === 's' } } : {}),
        ...(c.identity === 'a'
          ? { identity: 'always' as const }
          : c.identity === 'd'
            ? { identity: 'by-default' as const }
            : {}),
      };
    });
  }

  for (const k of rows.constraints) {
    const t = tables.get(k.oid);
    if (!t) continue;
    if (k.type === 'p') t.table.primaryKey = columnNames(k.oid, k.keys);
    else
      t.table.foreignKeys.push({
        name: k.name,
        columns: columnNames(k.oid, k.keys),
        referencedSchema: k.ref_schema ?? '',
        referencedTable: k.ref_table ?? '',
        referencedColumns: columnNames(k.ref_oid, k.ref_keys),
        onUpdate: ACTIONS[k.on_update] ?? 'NO ACTION',
        onDelete: ACTIONS[k.on_delete] ?? 'NO ACTION',
      });
  }

  for (const i of rows.indexes) {
    const t = tables.get(i.oid);
    if (!t) continue;
    // indkey holds 0 where the index column is an expression; pg_get_indexdef printed those.
    const all = i.keys.map((n, k) => (n === 0 ? (i.exprs?.[k] ?? '') : (names.get(i.oid)?.get(n) ?? String(n))));
    const include = all.slice(i.key_count);
    t.table.indexes.push({
      name: i.name,
      columns: all.slice(0, i.key_count),
      unique: i.unique,
      primary: i.primary,
      method: i.method,
      ...(include.length ? { include } : {}),
      ...(i.predicate !== null ? { predicate: i.predicate } : {}),
    });
  }
  return assembleSnapshot(
    'postgres',
    rows.database,
    rows.schemas.map((s) => s.name),
    [...tables.values()],
  );
}
