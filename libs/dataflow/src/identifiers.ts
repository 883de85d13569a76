import { DataflowError, DataflowErrorCode } from './errors';
import { type Dialect, type TableRef } from '@vansales/protocol';

/** PostgreSQL silently truncates longer names (NAMEDATALEN 64); MySQL refuses them. */
const MAX_BYTES: Record<Dialect, number> = { postgres: 63, mysql: 64 * 4, mssql: 128 * 2 };
const MAX_CHARS: Record<Dialect, number> = { postgres: 63, mysql: 64, mssql: 128 };
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Every identifier is quoted (so quotes, spaces and keywords in real table names work) and
 * checked first: names that no server accepts or that would be silently altered are refused
 * instead of being passed on.
 */
export function checkIdentifier(name: unknown, dialect: Dialect, what = 'identifier'): string {
  if (typeof name !== 'string' || name.length === 0)
    throw new DataflowError(DataflowErrorCode.BAD_IDENTIFIER, `${what} must be a non-empty string`);
  if (CONTROL.test(name))
    throw new DataflowError(
      DataflowErrorCode.BAD_IDENTIFIER,
      `${what} ${JSON.stringify(name)} contains a control character`,
    );
  if (name.length > MAX_CHARS[dialect] || Buffer.byteLength(name) > MAX_BYTES[dialect]) {
    throw new DataflowError(
      DataflowErrorCode.BAD_IDENTIFIER,
      `${what} ${JSON.stringify(name)} is longer than ${dialect} allows (${MAX_CHARS[dialect]})`,
    );
  }
  // MySQL strips trailing spaces from names, so `a ` would address table `a`.
  if (dialect === 'mysql' && / $/.test(name))
    throw new DataflowError(DataflowErrorCode.BAD_IDENTIFIER, `${what} ${JSON.stringify(name)} ends with a space`);
  return name;
}

export function quoteIdent(name: string, dialect: Dialect): string {
  checkIdentifier(name, dialect);
  switch (dialect) {
    case 'postgres':
      return `"${name.replace(/"/g, '""')}"`;
    case 'mysql':
      return `\`${name.replace(/`/g, '``')}\``;
    case 'mssql':
      return `[${name.replace(/]/g, ']]')}]`;
  }
}

export function quoteTable(table: TableRef, dialect: Dialect): string {
  return table.schema === undefined
    ? quoteIdent(table.name, dialect)
    : `${quoteIdent(table.schema, dialect)}.${quoteIdent(table.name, dialect)}`;
}

/** A string literal for DDL (enum labels, CHECK lists): standard SQL doubling, plus backslashes for MySQL's default mode. */
export function quoteLiteral(value: string, dialect: Dialect): string {
  if (value.includes('\u0000'))
    throw new DataflowError(DataflowErrorCode.BAD_VALUE, `literal ${JSON.stringify(value)} contains a NUL character`);
  const doubled = value.replace(/'/g, "''");
  if (dialect === 'mysql') return `'${doubled.replace(/\\/g, '\\\\')}'`;
  if (dialect === 'mssql') return `N'${doubled}'`;
  return `'${doubled}'`;
}
