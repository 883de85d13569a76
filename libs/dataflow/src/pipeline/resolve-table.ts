import { tableLabel, type TableRef } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '../errors';
import type { CatalogQuery, DataConnection } from '../types/data-connection';
import type { NameRules } from './data-policy';

/** A table name as the server resolves it, before any policy rule is matched against it. */
export interface ResolvedTable {
  /** Schema (PostgreSQL) or database (MySQL) and name, spelled as the catalog spells them. */
  table: { schema: string; name: string };
  exists: boolean;
  kind: 'table' | 'view';
  /**
   * For a view: every table and view it reads, followed down through views; undefined when the
   * catalog does not show the definition to this login (MySQL without SHOW VIEW).
   */
  bases?: { schema: string; name: string }[];
  /**
   * PostgreSQL partitions and inheritance children: the tables (up to the root) whose rows these
   * are, so a rule on `payment` is not read around through `payment_p2022_01`.
   */
  parents: { schema: string; name: string }[];
  names: NameRules;
}

/**
 * Resolves a requested name the way the server will when it runs the statement: the default
 * schema (PostgreSQL search_path, MySQL the connection's database), case folding
 * (lower_case_table_names) and, for a view, the tables behind it (pg_depend; MySQL and MariaDB
 * print every name in a view's stored definition fully qualified). The policy is matched
 * against this, never against the spelling the cloud sent.
 */
export async function resolveTable(
  conn: DataConnection,
  table: TableRef,
  signal?: AbortSignal,
): Promise<ResolvedTable> {
  if (conn.dialect === 'postgres') return conn.inspect((q) => resolvePostgres(q, table), { signal });
  if (conn.dialect === 'mysql') return conn.inspect((q) => resolveMysql(q, table), { signal });
  throw new DataflowError(
    DataflowErrorCode.BAD_REQUEST,
    `${conn.dialect} tables cannot be resolved for the site policy; ${tableLabel(table)} is not read`,
  );
}

async function resolvePostgres(query: CatalogQuery, table: TableRef): Promise<ResolvedTable> {
  const [found] = await query<{ oid: string; schema: string; name: string; kind: string; current: string | null }>(
    `SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
            current_schema() AS current
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND CASE WHEN $2::text IS NULL THEN n.nspname = ANY (current_schemas(true)) ELSE n.nspname = $2::text END
      ORDER BY array_position(current_schemas(true), n.nspname)
      LIMIT 1`,
    [table.name, table.schema ?? null],
  );
  const current =
    found?.current ?? (await query<{ current: string | null }>('SELECT current_schema() AS current'))[0]?.current;
  const names: NameRules = { defaultSchema: current ?? 'public', caseInsensitive: false };
  if (!found)
    return {
      table: { schema: table.schema ?? names.defaultSchema, name: table.name },
      exists: false,
      kind: 'table',
      bases: [],
      parents: [],
      names,
    };
  const isView = found.kind === 'v' || found.kind === 'm';
  const bases = isView
    ? await query<{ schema: string; name: string }>(
        // A view's rewrite rule depends on every relation its query reads; followed through views of views.
        `WITH RECURSIVE deps(oid, depth) AS (
           SELECT $1::int8::oid, 0
           UNION
           SELECT d.refobjid, deps.depth + 1
             FROM deps
             JOIN pg_rewrite r ON r.ev_class = deps.oid
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                             AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> deps.oid
            WHERE deps.depth < 16)
         SELECT DISTINCT n.nspname AS schema, c.relname AS name
           FROM deps JOIN pg_class c ON c.oid = deps.oid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE deps.oid <> $1::int8::oid`,
        [found.oid],
      )
    : [];
  const parents = isView
    ? []
    : await query<{ schema: string; name: string }>(
        `WITH RECURSIVE up(oid, depth) AS (
           SELECT i.inhparent, 1 FROM pg_inherits i WHERE i.inhrelid = $1::int8::oid
           UNION
           SELECT i.inhparent, up.depth + 1 FROM up JOIN pg_inherits i ON i.inhrelid = up.oid WHERE up.depth < 16)
         SELECT DISTINCT n.nspname AS schema, c.relname AS name
           FROM up JOIN pg_class c ON c.oid = up.oid JOIN pg_namespace n ON n.oid = c.relnamespace`,
        [found.oid],
      );
  return {
    table: { schema: found.schema, name: found.name },
    exists: true,
    kind: isView ? 'view' : 'table',
    bases,
    parents,
    names,
  };
}

async function resolveMysql(query: CatalogQuery, table: TableRef): Promise<ResolvedTable> {
  const [settings] = await query<{ lctn: number | string; db: string | null }>(
    'SELECT @@lower_case_table_names AS lctn, DATABASE() AS db',
  );
  const names: NameRules = {
    defaultSchema: settings?.db ?? '',
    caseInsensitive: Number(settings?.lctn ?? 0) !== 0,
  };
  const find = async (schema: string, name: string) => {
    const rows = await query<{ schema: string; name: string; type: string; definition: string | null }>(
      `SELECT t.TABLE_SCHEMA AS \`schema\`, t.TABLE_NAME AS name, t.TABLE_TYPE AS type, v.VIEW_DEFINITION AS definition
         FROM information_schema.TABLES t
         LEFT JOIN information_schema.VIEWS v ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME
        WHERE LOWER(t.TABLE_SCHEMA) = LOWER(?) AND LOWER(t.TABLE_NAME) = LOWER(?)`,
      [schema, name],
    );
    // Compared as the server compares: exactly, unless it folds case.
    return rows.find((r) =>
      names.caseInsensitive
        ? r.schema.toLowerCase() === schema.toLowerCase() && r.name.toLowerCase() === name.toLowerCase()
        : r.schema === schema && r.name === name,
    );
  };
  const found = await find(table.schema ?? names.defaultSchema, table.name);
  if (!found)
    return {
      table: { schema: table.schema ?? names.defaultSchema, name: table.name },
      exists: false,
      kind: 'table',
      bases: [],
      parents: [],
      names,
    };
  let bases: { schema: string; name: string }[] | undefined = [];
  if (found.type === 'VIEW') {
    const seen = new Set<string>([`${found.schema}.${found.name}`]);
    const pending = [found];
    for (let view = pending.pop(); view && seen.size < 256; view = pending.pop()) {
      // The server shows a definition only to a login with SHOW VIEW: unknown, not empty.
      if (!view.definition) {
        bases = undefined;
        break;
      }
      for (const [schema, name] of qualifiedNames(view.definition)) {
        const base = await find(schema, name);
        if (!base || seen.has(`${base.schema}.${base.name}`)) continue;
        seen.add(`${base.schema}.${base.name}`);
        bases.push({ schema: base.schema, name: base.name });
        if (base.type === 'VIEW') pending.push(base);
      }
    }
  }
  return {
    table: { schema: found.schema, name: found.name },
    exists: true,
    kind: found.type === 'VIEW' ? 'view' : 'table',
    bases,
    // A MySQL partition is not a table of its own.
    parents: [],
    names,
  };
}

/**
 * Every `a`.`b` pair in a stored view definition. The server stores tables as `db`.`table` and
 * columns as `db`.`table`.`column`, so each table the view reads appears; pairs that are not
 * tables are dropped by the catalog lookup (reading too many is safe, too few is not).
 */
function qualifiedNames(definition: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /`((?:[^`]|``)+)`\s*\.\s*`((?:[^`]|``)+)`/g;
  for (let m = re.exec(definition); m; m = re.exec(definition)) {
    out.push([m[1]!.replace(/``/g, '`'), m[2]!.replace(/``/g, '`')]);
    // `db`.`table`.`column`: continue at the table, so `table`.`column` is tried too (harmless).
    re.lastIndex = m.index + m[0].indexOf('.') + 1;
  }
  return out;
}
