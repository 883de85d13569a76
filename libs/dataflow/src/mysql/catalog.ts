import type { PoolConnection } from 'mysql2/promise';
import { mysqlCanonicalType, mysqlFieldCanonicalType, type MysqlField, type MysqlTypeOptions } from '../mapping/mysql';
import type { ColumnSpec } from '../types/canonical-type';
import { type TableRef } from '@vansales/protocol';
import type { TableDescription, TableInfo } from '../types/data-connection';

type Row = Record<string, unknown>;

/** information_schema columns can arrive as Buffers on some servers. */
const str = (v: unknown): string | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

async function rows(conn: PoolConnection, sql: string, params: unknown[]): Promise<Row[]> {
  const [result] = (await conn.query({ sql, values: params })) as unknown as [Row[]];
  return result;
}

export async function mysqlTableExists(conn: PoolConnection, table: TableRef): Promise<boolean> {
  const r = await rows(
    conn,
    "SELECT 1 AS x FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')",
    [table.schema ?? null, table.name],
  );
  return r.length > 0;
}

export async function describeMysqlTable(
  conn: PoolConnection,
  table: TableRef,
  options: Pick<MysqlTypeOptions, 'tinyint1'>,
): Promise<TableDescription | undefined> {
  const p = [table.schema ?? null, table.name];
  const cols = await rows(
    conn,
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable, CHARACTER_MAXIMUM_LENGTH AS charLength,
            NUMERIC_PRECISION AS numericPrecision, NUMERIC_SCALE AS numericScale, DATETIME_PRECISION AS datetimePrecision,
            CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    p,
  );
  if (cols.length === 0) return undefined;
  // MariaDB's JSON is LONGTEXT with CHECK (json_valid(`col`)); MySQL has a real JSON type (and no TABLE_NAME here).
  const jsonColumns = new Set<string>();
  if (cols.some((c) => /text$/i.test(str(c.dataType) ?? ''))) {
    const checks = await rows(
      conn,
      'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?',
      p,
    ).catch(() => []);
    for (const c of checks) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(str(c.clause) ?? '');
      if (m) jsonColumns.add(m[1]!.replace(/``/g, '`'));
    }
  }
  const pk = await rows(
    conn,
    "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
    p,
  );
  const columns: ColumnSpec[] = cols.map((c) => {
    const name = str(c.name)!;
    const type = mysqlCanonicalType(
      {
        dataType: str(c.dataType) ?? '',
        columnType: str(c.columnType) ?? '',
        charLength: num(c.charLength),
        numericPrecision: num(c.numericPrecision),
        numericScale: num(c.numericScale),
        datetimePrecision: num(c.datetimePrecision),
        charset: str(c.charset),
        collation: str(c.collation),
      },
      { tinyint1: options.tinyint1, json: jsonColumns.has(name) },
    );
    return {
      name,
      type,
      nullable: str(c.nullable) === 'YES',
      nativeType: jsonColumns.has(name) ? 'json' : (str(c.columnType) ?? ''),
    };
  });
  return { columns, primaryKey: pk.map((r) => str(r.name)!) };
}

/** Result columns from a prepared statement's metadata (nothing is executed). */
export async function describeQuery(
  conn: PoolConnection,
  sql: string,
  options: Pick<MysqlTypeOptions, 'tinyint1'>,
): Promise<ColumnSpec[]> {
  const statement = await conn.prepare(sql);
  try {
    const fields = (statement as unknown as { statement: { columns: (MysqlField & { name: string })[] } }).statement
      .columns;
    return fields.map((f) => fieldColumn(f, options));
  } finally {
    await statement.close();
  }
}

const TYPE_NAMES: Record<number, string> = {
  0: 'decimal',
  1: 'tinyint',
  2: 'smallint',
  3: 'int',
  4: 'float',
  5: 'double',
  6: 'null',
  7: 'timestamp',
  8: 'bigint',
  9: 'mediumint',
  10: 'date',
  11: 'time',
  12: 'datetime',
  13: 'year',
  15: 'varchar',
  16: 'bit',
  245: 'json',
  246: 'decimal',
  247: 'enum',
  248: 'set',
  249: 'tinyblob',
  250: 'mediumblob',
  251: 'longblob',
  252: 'blob',
  253: 'varchar',
  254: 'char',
  255: 'geometry',
};

export function fieldColumn(f: MysqlField & { name: string }, options: Pick<MysqlTypeOptions, 'tinyint1'>): ColumnSpec {
  const flags = typeof f.flags === 'number' ? f.flags : 0;
  return {
    name: f.name,
    type: mysqlFieldCanonicalType(f, options),
    nullable: (flags & 1) === 0,
    nativeType:
      f.extendedTypeName ??
      (f.extendedFormat === 'json' ? 'json' : (TYPE_NAMES[f.columnType ?? -1] ?? String(f.columnType))),
  };
}

export async function listMysqlTables(conn: PoolConnection, schema: string | undefined): Promise<TableInfo[]> {
  const r = await rows(
    conn,
    "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME",
    [schema ?? null],
  );
  // A MySQL partitioned table is one table to its readers: no partitions to skip.
  return r.map((x) => ({ schema: str(x.s)!, name: str(x.t)!, kind: 'table' as const }));
}

export async function serverInfo(conn: PoolConnection): Promise<{ maxAllowedPacket: number; mariadb: boolean }> {
  const r = await rows(conn, 'SELECT @@max_allowed_packet AS packet, VERSION() AS version', []);
  return {
    maxAllowedPacket: Number(r[0]?.packet ?? 4 * 1024 * 1024),
    mariadb: /mariadb/i.test(str(r[0]?.version) ?? ''),
  };
}
