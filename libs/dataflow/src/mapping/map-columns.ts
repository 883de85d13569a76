import { DataflowError, DataflowErrorCode } from '../errors';
import { quoteIdent, quoteLiteral, quoteTable } from '../identifiers';
import type { ColumnSpec } from '../types/canonical-type';
import { type Dialect, type TableRef } from '@vansales/protocol';
import { mssqlDdlType } from './mssql';
import { MYSQL_ROW_BYTES, mysqlDdlType, mysqlRowBytes } from './mysql';
import { pgDdlType } from './postgres';
import { type MappedType, type MappingContext, TypeNotMappable } from './unmappable';

const MAPPERS: Record<Dialect, (type: ColumnSpec['type'], ctx: MappingContext) => MappedType> = {
  postgres: pgDdlType,
  mysql: mysqlDdlType,
  mssql: mssqlDdlType,
};

export interface MapColumnsOptions {
  /** Primary key columns: text and binary keys get index-safe types (VARCHAR(n), not TEXT, on MySQL). */
  keyColumns?: string[];
}

/**
 * The columns as `target` will store them: `nativeType` is the DDL type, `type` the canonical type
 * the target column holds. Throws UNMAPPABLE_TYPE naming table and column for a type the target
 * cannot represent. Mapping a target's own columns again returns them unchanged.
 */
export function mapColumns(
  columns: ColumnSpec[],
  target: Dialect,
  table: string,
  options: MapColumnsOptions = {},
): ColumnSpec[] {
  const keys = new Set(options.keyColumns ?? []);
  for (const k of keys) {
    if (!columns.some((c) => c.name === k))
      throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `key column ${k} is not a column of ${table}`, {
        table,
        column: k,
      });
  }
  const forceLob = new Set<string>();
  const mapOne = (c: ColumnSpec): MappedType => {
    const ctx: MappingContext = {
      table,
      column: c.name,
      key: keys.has(c.name),
      keyCount: keys.size,
      forceLob: forceLob.has(c.name),
    };
    try {
      return MAPPERS[target](c.type, ctx);
    } catch (err) {
      if (err instanceof TypeNotMappable) {
        throw new DataflowError(
          DataflowErrorCode.UNMAPPABLE_TYPE,
          `cannot map column ${table}.${c.name} (${c.nativeType.length > 80 ? `${c.nativeType.slice(0, 77)}...` : c.nativeType}) to ${target}: ${err.reason}`,
          { table, column: c.name },
        );
      }
      throw err;
    }
  };
  let mapped = columns.map(mapOne);
  if (target === 'mysql') {
    // A row's VARCHARs share 64 KB: turn the widest non-key ones into TEXT/BLOB until they fit.
    for (;;) {
      const total = mapped.reduce((sum, m) => sum + mysqlRowBytes(m), 0);
      if (total <= MYSQL_ROW_BYTES - 1024) break;
      let widest = -1;
      mapped.forEach((m, i) => {
        if (keys.has(columns[i]!.name) || forceLob.has(columns[i]!.name) || mysqlRowBytes(m) <= 12) return;
        if (widest < 0 || mysqlRowBytes(m) > mysqlRowBytes(mapped[widest]!)) widest = i;
      });
      if (widest < 0) break;
      forceLob.add(columns[widest]!.name);
      mapped = columns.map(mapOne);
    }
  }
  return columns.map((c, i) => ({
    name: c.name,
    type: mapped[i]!.type,
    nullable: c.nullable && !keys.has(c.name),
    nativeType: mapped[i]!.ddl,
  }));
}

/**
 * CREATE TABLE for already-mapped columns (mapColumns output): columns, NOT NULL, primary key,
 * plus a CHECK for PostgreSQL text[] columns that hold a MySQL SET. Enum types (PostgreSQL)
 * are created by the PostgreSQL connection before this runs.
 */
export function createTableSql(dialect: Dialect, table: TableRef, columns: ColumnSpec[], primaryKey: string[]): string {
  if (columns.length === 0)
    throw new DataflowError(DataflowErrorCode.BAD_REQUEST, `table ${table.name} needs at least one column`);
  const q = (name: string) => quoteIdent(name, dialect);
  const lines = columns.map((c) => {
    let type = c.nativeType;
    if (dialect === 'postgres' && c.type.kind === 'enum') type = enumRef(table, type);
    if (dialect === 'postgres' && c.type.kind === 'array' && c.type.element.kind === 'enum')
      type = `${enumRef(table, c.nativeType.replace(/\[\]$/, ''))}[]`;
    let line = `${q(c.name)} ${type}${c.nullable ? (dialect === 'mysql' ? ' NULL' : '') : ' NOT NULL'}`;
    if (dialect === 'postgres' && c.type.kind === 'set') {
      line += ` CHECK (${q(c.name)} <@ ARRAY[${c.type.values.map((v) => quoteLiteral(v, 'postgres')).join(', ')}]::text[])`;
    }
    if (dialect === 'mssql' && c.type.kind === 'enum') {
      line += ` CHECK (${q(c.name)} IN (${c.type.values.map((v) => quoteLiteral(v, 'mssql')).join(', ')}))`;
    }
    return line;
  });
  for (const k of primaryKey) {
    if (!columns.some((c) => c.name === k))
      throw new DataflowError(
        DataflowErrorCode.BAD_REQUEST,
        `primary key column ${k} is not a column of ${table.name}`,
        { table: table.name, column: k },
      );
  }
  if (primaryKey.length) lines.push(`PRIMARY KEY (${primaryKey.map(q).join(', ')})`);
  const suffix = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : '';
  return `CREATE TABLE ${quoteTable(table, dialect)} (\n  ${lines.join(',\n  ')}\n)${suffix}`;
}

/** An enum type lives in the table's schema. */
function enumRef(table: TableRef, name: string): string {
  return quoteTable({ ...(table.schema !== undefined ? { schema: table.schema } : {}), name }, 'postgres');
}
