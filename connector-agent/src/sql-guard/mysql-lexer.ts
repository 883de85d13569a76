import type { LexedSql, SqlComment } from './sql-token';
import {
  blockComment,
  lineComment,
  namesAndNumbers,
  operatorOrRefuse,
  quoted,
  scanSql,
  single,
  SPACES,
  unclosedQuote,
  variable,
  wordCharacters,
  type SqlLexTable,
  type SqlScanner,
} from './sql-scanner';

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

// Unquoted MySQL names may hold letters, digits, _ and $, and any character beyond ASCII.
const isWordChar = wordCharacters(/[A-Za-z0-9_$]/);

// `-- ` starts a comment only when the dashes are followed by whitespace, a control character or the
// end of the text; `--x` is two minus signs.
const startsDashComment = (s: SqlScanner) =>
  s.peek(1) === '-' && (s.pos + 2 >= s.sql.length || s.sql.charCodeAt(s.pos + 2) <= 0x20);

// The server runs the content of `/*! ... */` and `/*M! ... */`, and reads `/*+ ... */` as optimizer hints.
const commentKind = (s: SqlScanner): SqlComment['kind'] => {
  const marker = s.peek(2);
  return marker === '!' || (marker === 'M' && s.peek(3) === '!') ? 'executable' : marker === '+' ? 'hint' : 'plain';
};

const mysqlTable = (mode: MysqlLexMode): SqlLexTable => {
  const string = quoted('string', { backslashEscapes: mode.backslashEscapes, unclosed: unclosedQuote });
  // Names never take backslash escapes, in any mode.
  const name = quoted('quoted-name', { unclosed: unclosedQuote });
  return {
    spaces: SPACES,
    openers: {
      '#': [{ scan: lineComment }],
      '-': [{ when: startsDashComment, scan: lineComment }],
      '/': [
        {
          when: (s) => s.peek(1) === '*',
          scan: blockComment({
            nested: false,
            unclosed: 'The SQL text has a /* comment that is never closed with */.',
            kind: commentKind,
          }),
        },
      ],
      "'": [{ scan: string }],
      '"': [{ scan: mode.ansiQuotes ? name : string }],
      '`': [{ scan: name }],
      '@': [{ scan: variable(isWordChar) }],
      '?': [{ scan: single('placeholder') }],
    },
    ...namesAndNumbers(isWordChar),
    punctuation: '(),;.',
    other: operatorOrRefuse('+-*/%=<>!&|^~:\\{}', 'MySQL/MariaDB SQL'),
  };
};

/**
 * Lexes MySQL/MariaDB text as the server's lexer (sql_lex.cc) does: `#` and `-- ` (dash dash
 * followed by whitespace or a control character) start line comments, `--x` is two minus signs,
 * block comments do not nest, and `/*!`, `/*M!` and `/*+` are not comments at all for the server.
 */
export function lexMysql(sql: string, mode: MysqlLexMode): LexedSql {
  return scanSql(sql, mysqlTable(mode));
}
