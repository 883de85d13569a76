import { ConnectionPool, ISOLATION_LEVEL, NVarChar, Request, Transaction } from 'mssql';
import type {
  ColumnSnapshot,
  IndexSnapshot,
  ReferentialAction,
  SchemaSnapshot,
  TableKind,
  TableSnapshot,
} from '@vansales/protocol';
import { DataflowError, DataflowErrorCode, normaliseError } from '@vansales/dataflow';
import { assembleSnapshot, type DiscoverOptions, type MssqlTarget, type RawTable } from './assemble';
import { mssqlTypeName, type MssqlColumnType } from './mssql-type-name';

/*
 * SQL Server discovery over the sys.* catalog views (SQL Server 2016 or later: sys.tables.is_external).
 * NOT RUN AGAINST A SERVER YET: no SQL Server can run on the development machines. Written from
 * the catalog views' documentation and typechecked; test it against a real server before relying on it.
 */

/**
 * Schemas in scope. Default: every schema but sys and INFORMATION_SCHEMA; guest and the fixed
 * database-role schemas (db_owner..., ids 16384-16399) only when they hold a table or view.
 */
function scopeClause(names: string[] | undefined): string {
  if (names) return `s.name IN (${names.map((_, i) => `@s${i}`).join(', ')})`;
  return `s.name NOT IN (N'sys', N'INFORMATION_SCHEMA')
      AND ((s.name <> N'guest' AND s.schema_id NOT BETWEEN 16384 AND 16399)
           OR EXISTS (SELECT 1 FROM sys.objects x WHERE x.schema_id = s.schema_id AND x.type IN ('U', 'V') AND x.is_ms_shipped = 0))`;
}

const queries = (scope: string) => {
  const objects = `o.is_ms_shipped = 0 AND o.type IN ('U', 'V') AND o.schema_id IN (SELECT s.schema_id FROM sys.schemas s WHERE ${scope})`;
  return {
    schemas: `SELECT s.name AS [name] FROM sys.schemas s WHERE ${scope}`,
    objects: `
      SELECT o.object_id AS [id], SCHEMA_NAME(o.schema_id) AS [schema_name], o.name AS [name], o.type AS [type],
             CAST(ISNULL(t.is_external, 0) AS bit) AS is_external,
             CAST(CASE WHEN EXISTS (SELECT 1 FROM sys.indexes ci JOIN sys.data_spaces ds ON ds.data_space_id = ci.data_space_id
                                     WHERE ci.object_id = o.object_id AND ci.index_id IN (0, 1) AND ds.type = 'PS') THEN 1 ELSE 0 END AS bit) AS partitioned,
             CAST(CASE WHEN o.type = 'V' AND EXISTS (SELECT 1 FROM sys.indexes vi WHERE vi.object_id = o.object_id AND vi.index_id = 1) THEN 1 ELSE 0 END AS bit) AS indexed_view,
             (SELECT CAST(SUM(p.rows) AS bigint) FROM sys.partitions p WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)) AS row_estimate,
             CAST(ep.value AS nvarchar(max)) AS comment
        FROM sys.objects o
        LEFT JOIN sys.tables t ON t.object_id = o.object_id
        LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = o.object_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
       WHERE ${objects}`,
    columns: `
      SELECT c.object_id AS [id], c.name AS [name], c.column_id AS [column_id], ty.name AS [type_name], SCHEMA_NAME(ty.schema_id) AS [type_schema],
             ty.is_user_defined AS [is_user_defined], c.max_length AS [max_length], c.[precision] AS [precision], c.[scale] AS [scale],
             c.is_nullable AS is_nullable, c.is_identity AS is_identity, dc.definition AS default_definition,
             cc.definition AS computed_definition, CAST(ISNULL(cc.is_persisted, 0) AS bit) AS is_persisted,
             CAST(ep.value AS nvarchar(max)) AS comment
        FROM sys.columns c
        JOIN sys.objects o ON o.object_id = c.object_id
        JOIN sys.types ty ON ty.user_type_id = c.user_type_id
        LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
        LEFT JOIN sys.computed_columns cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
        LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = c.object_id AND ep.minor_id = c.column_id AND ep.name = N'MS_Description'
       WHERE ${objects}`,
    indexes: `
      SELECT i.object_id AS [id], i.index_id AS [index_id], i.name AS [name], i.type_desc AS type_desc, i.is_unique AS is_unique,
             i.is_primary_key AS is_primary_key, i.filter_definition AS filter_definition,
             c.name AS column_name, ic.key_ordinal AS key_ordinal, ic.index_column_id AS index_column_id,
             ic.is_included_column AS is_included_column
        FROM sys.indexes i
        JOIN sys.objects o ON o.object_id = i.object_id
        JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
        JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
       WHERE i.type > 0 AND i.is_hypothetical = 0 AND ${objects}`,
    foreignKeys: `
      SELECT fk.parent_object_id AS [id], fk.name AS [name], fkc.constraint_column_id AS ordinal,
             pc.name AS column_name, SCHEMA_NAME(ro.schema_id) AS ref_schema, ro.name AS ref_table, rc.name AS ref_column,
             fk.update_referential_action_desc AS on_update, fk.delete_referential_action_desc AS on_delete
        FROM sys.foreign_keys fk
        JOIN sys.objects o ON o.object_id = fk.parent_object_id
        JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
        JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
        JOIN sys.objects ro ON ro.object_id = fk.referenced_object_id
        JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
       WHERE ${objects}`,
  };
};

interface ObjectRow {
  id: number;
  schema_name: string;
  name: string;
  type: string;
  is_external: boolean;
  partitioned: boolean;
  indexed_view: boolean;
  row_estimate: string | number | null;
  comment: string | null;
}
interface ColumnRow extends MssqlColumnType {
  id: number;
  name: string;
  column_id: number;
  is_nullable: boolean;
  is_identity: boolean;
  default_definition: string | null;
  computed_definition: string | null;
  is_persisted: boolean;
  comment: string | null;
}
interface IndexRow {
  id: number;
  index_id: number;
  name: string;
  type_desc: string;
  is_unique: boolean;
  is_primary_key: boolean;
  filter_definition: string | null;
  column_name: string;
  key_ordinal: number;
  index_column_id: number;
  is_included_column: boolean;
}
interface ForeignKeyRow {
  id: number;
  name: string;
  ordinal: number;
  column_name: string;
  ref_schema: string;
  ref_table: string;
  ref_column: string;
  on_update: string;
  on_delete: string;
}

function action(desc: string): ReferentialAction {
  const s = desc.replace(/_/g, ' ').toUpperCase();
  return s === 'CASCADE' || s === 'SET NULL' || s === 'SET DEFAULT' || s === 'RESTRICT' ? s : 'NO ACTION';
}

export async function discoverMssql(db: MssqlTarget, options: DiscoverOptions = {}): Promise<SchemaSnapshot> {
  const pool = new ConnectionPool({
    server: db.host,
    port: db.mssql?.instanceName ? undefined : db.port,
    user: db.user,
    password: db.password,
    database: db.database,
    connectionTimeout: 10_000,
    requestTimeout: db.statementTimeoutMs ?? 30_000,
    pool: { min: 0, max: 1 },
    options: {
      encrypt: db.mssql?.encrypt ?? true,
      trustServerCertificate: db.mssql?.trustServerCertificate ?? false,
      instanceName: db.mssql?.instanceName,
      // Routes to a readable secondary where there is one; SQL Server has no READ ONLY transaction.
      readOnlyIntent: true,
      appName: 'vansales-mini-connector',
    },
  });
  pool.on('error', () => undefined); // reported by the request that fails
  try {
    await pool.connect();
  } catch (err) {
    throw new DataflowError(
      DataflowErrorCode.CONNECTION_FAILED,
      `cannot connect to SQL Server at ${db.host}:${db.port}: ${(err as { code?: string }).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  const onAbort = () => void pool.close().catch(() => undefined);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // One transaction rolled back at the end: nothing here writes, and nothing could be kept.
    const tx = new Transaction(pool);
    await tx.begin(ISOLATION_LEVEL.READ_COMMITTED);
    try {
      const q = queries(scopeClause(options.schemas));
      const run = async <T>(text: string): Promise<T[]> => {
        const req = new Request(tx);
        (options.schemas ?? []).forEach((s, i) => req.input(`s${i}`, NVarChar(128), s));
        return (await req.query<T>(text)).recordset ?? [];
      };
      const [head] = await run<{ database: string }>('SELECT DB_NAME() AS [database]');
      const schemas = await run<{ name: string }>(q.schemas);
      const objects = await run<ObjectRow>(q.objects);
      const columns = await run<ColumnRow>(q.columns);
      const indexes = await run<IndexRow>(q.indexes);
      const foreignKeys = await run<ForeignKeyRow>(q.foreignKeys);
      return buildSnapshot(head?.database ?? db.database, schemas, objects, columns, indexes, foreignKeys);
    } finally {
      await tx.rollback().catch(() => undefined);
    }
  } catch (err) {
    if (options.signal?.aborted)
      throw new DataflowError(DataflowErrorCode.CANCELLED, 'schema discovery was cancelled', { cause: err });
    throw normaliseError(err, DataflowErrorCode.READ_FAILED, 'SQL Server schema discovery failed');
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await pool.close().catch(() => undefined);
  }
}

function buildSnapshot(
  database: string,
  schemas: { name: string }[],
  objects: ObjectRow[],
  columns: ColumnRow[],
  indexRows: IndexRow[],
  fkRows: ForeignKeyRow[],
): SchemaSnapshot {
  const tables = new Map<number, RawTable>();
  for (const o of objects) {
    const view = o.type.trim() === 'V';
    const kind: TableKind = view
      ? o.indexed_view
        ? 'materialized-view'
        : 'view'
      : o.is_external
        ? 'foreign-table'
        : o.partitioned
          ? 'partitioned-table'
          : 'table';
    const table: TableSnapshot = {
      name: o.name,
      kind,
      ...(o.comment !== null ? { comment: o.comment } : {}),
      columns: [],
      primaryKey: null,
      foreignKeys: [],
      indexes: [],
      rowEstimate: (view && !o.indexed_view) || o.row_estimate === null ? null : Number(o.row_estimate),
    };
    tables.set(o.id, { schema: o.schema_name, table });
  }

  const byTable = new Map<number, ColumnRow[]>();
  for (const c of columns) {
    const list = byTable.get(c.id);
    if (list) list.push(c);
    else byTable.set(c.id, [c]);
  }
  for (const [id, cols] of byTable) {
    const t = tables.get(id);
    if (!t) continue;
    cols.sort((a, b) => a.column_id - b.column_id);
    cols.forEach((c, i) => {
      const column: ColumnSnapshot = {
        name: c.name,
        position: i + 1,
        dataType: mssqlTypeName(c),
        nullable: c.is_nullable,
        default: c.default_definition,
        ...(c.comment !== null ? { comment: c.comment } : {}),
        ...(c.computed_definition !== null
          ? { generated: { expression: c.computed_definition, stored: c.is_persisted } }
          : {}),
        ...(c.is_identity ? { identity: 'always' as const } : {}),
      };
      t.table.columns.push(column);
    });
  }

  const indexes = new Map<
    string,
    { table: RawTable; row: IndexRow; keys: [number, string][]; included: [number, string][] }
  >();
  for (const r of indexRows) {
    const t = tables.get(r.id);
    if (!t) continue;
    const id = `${r.id}:${r.index_id}`;
    let entry = indexes.get(id);
    if (!entry) {
      entry = { table: t, row: r, keys: [], included: [] };
      indexes.set(id, entry);
    }
    // Columnstore indexes have no key order: their columns come in index_column_id order.
    if (r.key_ordinal > 0) entry.keys.push([r.key_ordinal, r.column_name]);
    else entry.included.push([r.index_column_id, r.column_name]);
  }
  for (const { table, row, keys, included } of indexes.values()) {
    const keyCols = keys.sort((a, b) => a[0] - b[0]).map(([, n]) => n);
    const incCols = included.sort((a, b) => a[0] - b[0]).map(([, n]) => n);
    const index: IndexSnapshot = {
      name: row.name,
      columns: keyCols.length ? keyCols : incCols,
      unique: row.is_unique,
      primary: row.is_primary_key,
      method: row.type_desc,
      ...(keyCols.length && incCols.length ? { include: incCols } : {}),
      ...(row.filter_definition !== null ? { predicate: row.filter_definition } : {}),
    };
    table.table.indexes.push(index);
    if (index.primary) table.table.primaryKey = [...index.columns];
  }

  const fks = new Map<string, { table: RawTable; rows: ForeignKeyRow[] }>();
  for (const r of fkRows) {
    const t = tables.get(r.id);
    if (!t) continue;
    const id = `${r.id}:${r.name}`;
    const entry = fks.get(id) ?? { table: t, rows: [] };
    entry.rows.push(r);
    fks.set(id, entry);
  }
  for (const { table, rows } of fks.values()) {
    rows.sort((a, b) => a.ordinal - b.ordinal);
    const first = rows[0]!;
    table.table.foreignKeys.push({
      name: first.name,
      columns: rows.map((r) => r.column_name),
      referencedSchema: first.ref_schema,
      referencedTable: first.ref_table,
      referencedColumns: rows.map((r) => r.ref_column),
      onUpdate: action(first.on_update),
      onDelete: action(first.on_delete),
    });
  }
  return assembleSnapshot(
    'mssql',
    database,
    schemas.map((s) => s.name),
    [...tables.values()],
  );
}
