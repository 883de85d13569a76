import type { Dialect } from '@vansales/protocol';

/*
 * Names that end up as DDL text rather than as quoted identifiers or literals: the native type
 * name of an `other` column and MySQL charsets and collations. They arrive in buffer manifests,
 * which another site wrote, so each is checked against a grammar that can only spell a name:
 * no spaces, quotes that do not close, semicolons, comments or parentheses beyond a typmod.
 * The mappers check again (mapColumns also maps columns that did not come from a manifest).
 */

/** An unquoted PostgreSQL identifier, or a quoted one whose only `"` are doubled (no control characters). */
const PG_IDENT = '(?:[A-Za-z_][A-Za-z0-9_$]{0,62}|"(?:[^"\\u0000-\\u001f\\u007f]|""){1,63}")';
/** `name`, `schema.name`, with an optional typmod `(n)` / `(n,m)`: what format_type prints for the `other` family. */
const PG_TYPE_NAME = new RegExp(`^${PG_IDENT}(?:\\.${PG_IDENT})?(?:\\(\\d{1,9}(?:,\\d{1,9})?\\))?$`);

/** MySQL/MariaDB types that map to `other` (mysqlCanonicalType), so the only ones a MySQL target recreates natively. */
export const MYSQL_OTHER_TYPES: ReadonlySet<string> = new Set(['inet4', 'inet6']);
/** SQL Server types that map to `other` (mssqlCanonicalType). */
export const MSSQL_OTHER_TYPES: ReadonlySet<string> = new Set(['xml']);

/** Charset and collation names are plain words on every MySQL and MariaDB (utf8mb4, utf8mb4_0900_ai_ci, uca1400_...). */
const MYSQL_CHARSET_NAME = /^[A-Za-z0-9_]{1,64}$/;

/** Longest type name accepted in a manifest (PostgreSQL: schema + name, each at most 63 bytes, quoted, plus a typmod). */
export const MAX_TYPE_NAME_LENGTH = 160;

/** Why `name` is not a type name the dialect's DDL may contain, or undefined when it is one. */
export function otherTypeNameProblem(dialect: Dialect, name: string): string | undefined {
  if (name.length > MAX_TYPE_NAME_LENGTH) return `is longer than ${MAX_TYPE_NAME_LENGTH} characters`;
  switch (dialect) {
    case 'postgres':
      return PG_TYPE_NAME.test(name)
        ? undefined
        : 'is not a PostgreSQL type name (an identifier, optionally schema-qualified, with an optional (n) or (n,m))';
    case 'mysql':
      return MYSQL_OTHER_TYPES.has(name.toLowerCase())
        ? undefined
        : `is not a MySQL/MariaDB type this platform recreates (${[...MYSQL_OTHER_TYPES].join(', ')})`;
    case 'mssql':
      return MSSQL_OTHER_TYPES.has(name.toLowerCase())
        ? undefined
        : `is not a SQL Server type this platform recreates (${[...MSSQL_OTHER_TYPES].join(', ')})`;
  }
}

/** Why `name` is not a MySQL charset or collation name, or undefined when it is one. */
export function mysqlCharsetNameProblem(name: string): string | undefined {
  return MYSQL_CHARSET_NAME.test(name) ? undefined : 'is not a MySQL charset or collation name (letters, digits, _)';
}

/** A name from elsewhere as a message shows it: quoted, escaped, and cut (a 100 KB name must not make a 100 KB error). */
export function showName(name: string): string {
  const q = JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
  return name.length > 60 ? `${q} (${name.length} characters)` : q;
}
