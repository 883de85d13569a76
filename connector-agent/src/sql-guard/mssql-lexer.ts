import type { LexedSql } from './sql-token';
import {
  blockComment,
  lineComment,
  namesAndNumbers,
  operatorOrRefuse,
  quoted,
  scanSql,
  single,
  variable,
  wordCharacters,
  type SqlLexTable,
} from './sql-scanner';

// T-SQL names may hold letters, digits, _, @, #, $ and characters beyond ASCII (#temp, ##global, @var).
const isWordChar = wordCharacters(/[A-Za-z0-9_@#$]/);
const unclosed = (quote: string, at: number) => `The SQL text has a ${quote} at position ${at} that is never closed.`;

const MSSQL: SqlLexTable = {
  // Without \v, unlike the other dialects: here it is refused as an unknown character (the guard's
  // control-character check refuses it before lexing anyway).
  spaces: ' \t\n\r\f',
  openers: {
    '-': [{ when: (s) => s.peek(1) === '-', scan: lineComment }],
    '/': [
      {
        when: (s) => s.peek(1) === '*',
        scan: blockComment({
          nested: true,
          unclosed:
            'The SQL text has a /* comment that is never closed with */ (T-SQL comments nest, so every /* needs its own */).',
        }),
      },
    ],
    "'": [{ scan: quoted('string', { unclosed }) }],
    '"': [{ scan: quoted('quoted-name', { unclosed }) }],
    '[': [{ scan: quoted('quoted-name', { close: ']', unclosed }) }],
    '@': [{ scan: variable(isWordChar) }],
    '?': [{ scan: single('placeholder') }],
  },
  ...namesAndNumbers(isWordChar),
  punctuation: '(),;.',
  other: operatorOrRefuse('+-*/%=<>!&|^~:{}', 'T-SQL'),
};

/**
 * Lexes T-SQL as SQL Server does: `--` always starts a line comment, block comments NEST
 * (`/* a /* b *\/ c *\/` is one comment), strings double their quote and know no backslash escape,
 * [names] double their `]`. "..." is a name under QUOTED_IDENTIFIER ON and a string under OFF;
 * both end at the same quote, so the shape of the text is the same either way.
 */
export function lexMssql(sql: string): LexedSql {
  return scanSql(sql, MSSQL);
}
