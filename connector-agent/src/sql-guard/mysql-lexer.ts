import { refuse } from './sql-refusal';
import type { LexedSql, SqlComment, SqlToken } from './sql-token';

/**
 * The two sql_mode flags that change where a MySQL/MariaDB string or name ends. A site may set
 * either on its server, and the agent cannot know which, so a text is lexed under every combination.
 */
export interface MysqlLexMode {
  /** Off under NO_BACKSLASH_ESCAPES. */
  backslashEscapes: boolean;
  /** Under ANSI_QUOTES, "..." is a name, not a string. */
  ansiQuotes: boolean;
}

export const MYSQL_LEX_MODES: readonly MysqlLexMode[] = [
  { backslashEscapes: true, ansiQuotes: false },
  { backslashEscapes: false, ansiQuotes: false },
  { backslashEscapes: true, ansiQuotes: true },
  { backslashEscapes: false, ansiQuotes: true },
];

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c: string) => c >= '0' && c <= '9';
// Unquoted MySQL names may hold letters, digits, _ and $, and any character beyond ASCII.
const isWordChar = (c: string) => /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;
const OPERATOR_CHARS = '+-*/%=<>!&|^~:\\{}';

/**
 * Lexes MySQL/MariaDB text as the server's lexer (sql_lex.cc) does: `#` and `-- ` (dash dash
 * followed by whitespace or a control character) start line comments, `--x` is two minus signs,
 * block comments do not nest, and `/*!`, `/*M!` and `/*+` are not comments at all for the server.
 */
export function lexMysql(sql: string, mode: MysqlLexMode): LexedSql {
  const tokens: SqlToken[] = [];
  const comments: SqlComment[] = [];
  let i = 0;
  const push = (kind: SqlToken['kind'], start: number, end: number) => tokens.push({ kind, text: sql.slice(start, end), start, end });

  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1] ?? '';
    if (isSpace(c)) {
      i++;
    } else if (c === '#' || (c === '-' && next === '-' && (i + 2 >= sql.length || sql.charCodeAt(i + 2) <= 0x20))) {
      const end = sql.indexOf('\n', i);
      comments.push({ start: i, end: end < 0 ? sql.length : end, kind: 'plain' });
      i = end < 0 ? sql.length : end;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) refuse('The SQL text has a /* comment that is never closed with */.');
      const marker = sql[i + 2];
      const kind = marker === '!' || (marker === 'M' && sql[i + 3] === '!') ? 'executable' : marker === '+' ? 'hint' : 'plain';
      comments.push({ start: i, end: end + 2, kind });
      i = end + 2;
    } else if (c === "'" || (c === '"' && !mode.ansiQuotes)) {
      const end = quotedEnd(sql, i, mode.backslashEscapes);
      push('string', i, end);
      i = end;
    } else if (c === '`' || c === '"') {
      // Names never take backslash escapes, in any mode.
      const end = quotedEnd(sql, i, false);
      push('quoted-name', i, end);
      i = end;
    } else if (c === '@') {
      let end = i + 1;
      if (sql[end] === '@') end++;
      while (end < sql.length && isWordChar(sql[end]!)) end++;
      push(end > i + 1 ? 'variable' : 'operator', i, end);
      i = end;
    } else if (isDigit(c)) {
      let end = i;
      while (end < sql.length && (isWordChar(sql[end]!) || (sql[end] === '.' && isDigit(sql[end + 1] ?? '')))) end++;
      push(/^[0-9.]+(e[0-9]*)?$/i.test(sql.slice(i, end)) ? 'number' : 'word', i, end);
      i = end;
    } else if (isWordChar(c)) {
      let end = i;
      while (end < sql.length && isWordChar(sql[end]!)) end++;
      push('word', i, end);
      i = end;
    } else if (c === '?') {
      push('placeholder', i, i + 1);
      i++;
    } else if ('(),;.'.includes(c)) {
      push('punctuation', i, i + 1);
      i++;
    } else if (OPERATOR_CHARS.includes(c)) {
      push('operator', i, i + 1);
      i++;
    } else {
      refuse(`The SQL text contains the character ${JSON.stringify(c)} at position ${i}, which MySQL/MariaDB SQL does not use outside strings.`);
    }
  }
  return { tokens, comments };
}

/** End (exclusive) of the quoted token opening at `start`; a doubled quote is one quote character. */
function quotedEnd(sql: string, start: number, backslashEscapes: boolean): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i++) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i++;
    else if (c === quote) {
      if (sql[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return refuse(`The SQL text has a ${quote} quote at position ${start} that is never closed.`);
}
