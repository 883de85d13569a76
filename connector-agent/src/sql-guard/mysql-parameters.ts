import { lexMysql } from './mysql-lexer';
import { refuse, SqlRefusal } from './sql-refusal';

export type SqlParameter = string | number | boolean | null;

/**
 * MySQL drivers put `?` parameters into the text on the client. mysql2 escapes quotes with a
 * backslash, which a server running with NO_BACKSLASH_ESCAPES reads as a plain character, so a
 * parameter could end its string and inject SQL the guard never saw. This binds each parameter as a
 * literal that reads the same under every sql_mode, so the guard can check the exact text the server
 * will run: quotes are doubled, and strings holding a backslash or control character go as hex.
 */
export function bindMysqlParameters(
  sql: string,
  params: readonly SqlParameter[],
): { ok: true; sql: string } | { ok: false; reason: string } {
  try {
    return { ok: true, sql: bind(sql, params) };
  } catch (err) {
    if (err instanceof SqlRefusal) return { ok: false, reason: err.message };
    throw err;
  }
}

function bind(sql: string, params: readonly SqlParameter[]): string {
  if (params.length === 0) return sql;
  const placeholders = lexMysql(sql, { backslashEscapes: true, ansiQuotes: false }).tokens.filter(
    (t) => t.kind === 'placeholder',
  );
  if (placeholders.length !== params.length) {
    refuse(
      `The query has ${placeholders.length} ? placeholder(s) but ${params.length} parameter(s) were given; pass exactly one parameter per ?.`,
    );
  }
  let out = '';
  let at = 0;
  placeholders.forEach((placeholder, i) => {
    // Spaces keep a literal from merging with its neighbours (a - ? with -1 must not become a --1).
    out += `${sql.slice(at, placeholder.start)} ${literal(params[i]!)} `;
    at = placeholder.end;
  });
  return out + sql.slice(at);
}

function literal(value: SqlParameter): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) refuse(`Parameter ${value} is not a finite number; pass it as a string or NULL.`);
    return String(value);
  }
  if (needsHex(value)) return `CONVERT(X'${Buffer.from(value, 'utf8').toString('hex')}' USING utf8mb4)`;
  return `'${value.replace(/'/g, "''")}'`;
}

const needsHex = (value: string) => {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x5c || code < 0x20 || code === 0x7f) return true;
  }
  return false;
};
