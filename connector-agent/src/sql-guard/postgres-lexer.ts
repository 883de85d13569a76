import { refuse } from './sql-refusal';
import type { LexedSql } from './sql-token';
import {
  blockComment,
  isDigit,
  lineComment,
  quoted,
  scanQuoted,
  scanSql,
  single,
  SPACES,
  unclosedQuote,
  wordCharacters,
  type Scan,
  type SqlLexTable,
} from './sql-scanner';

const isIdentStart = wordCharacters(/[A-Za-z_]/);
const isIdentChar = wordCharacters(/[A-Za-z0-9_$]/);

/** $1, $2...: a parameter placeholder. */
const placeholder: Scan = (s) => s.token('placeholder', s.runEnd(s.pos + 1, isDigit));

/** $$...$$ or $tag$...$tag$: a string that ends only at the same delimiter, with no escapes at all. */
const dollarQuoted: Scan = (s) => {
  const i = s.pos;
  const tagEnd = s.runEnd(i + 1, (c) => isIdentChar(c) && c !== '$');
  if (s.sql[tagEnd] !== '$' || (tagEnd > i + 1 && !isIdentStart(s.sql[i + 1]!)))
    refuse(`The SQL text has a stray $ at position ${i}.`);
  const delimiter = s.sql.slice(i, tagEnd + 1);
  const close = s.sql.indexOf(delimiter, tagEnd + 1);
  if (close < 0) refuse(`The SQL text has a dollar-quoted string opened with ${delimiter} that is never closed.`);
  s.token('string', close + delimiter.length);
};

// A digit-led run of name characters and single dots is one number (1.5, 1e5, 0x1F); only the token
// boundaries matter here, and a `..` ends the run.
const number: Scan = (s) =>
  s.token(
    'number',
    s.runEnd(s.pos, (c, at) => isIdentChar(c) || (c === '.' && s.sql[at + 1] !== '.')),
  );

/** A word, or a string whose prefix is the word just read (E'...', B'...', X'...', N'...', U&'...', U&"..."). */
const wordOrPrefixedString =
  (standardConformingStrings: boolean): Scan =>
  (s) => {
    const end = s.runEnd(s.pos, isIdentChar);
    const word = s.sql.slice(s.pos, end).toUpperCase();
    if (s.sql[end] === "'" && (word === 'E' || word === 'B' || word === 'X' || word === 'N')) {
      // E'...' always takes backslash escapes; B'', X'' take none; N'' is a plain string.
      scanQuoted(
        s,
        'string',
        { backslashEscapes: word === 'E' || (word === 'N' && !standardConformingStrings), unclosed: unclosedQuote },
        end - s.pos,
      );
    } else if (word === 'U' && s.sql[end] === '&' && (s.sql[end + 1] === "'" || s.sql[end + 1] === '"')) {
      // U&'...' and U&"..." escape with \XXXX but never escape their quote that way.
      scanQuoted(s, s.sql[end + 1] === "'" ? 'string' : 'quoted-name', { unclosed: unclosedQuote }, end + 1 - s.pos);
    } else {
      s.token('word', end);
    }
  };

const postgresTable = (standardConformingStrings: boolean): SqlLexTable => ({
  spaces: SPACES,
  openers: {
    '-': [{ when: (s) => s.peek(1) === '-', scan: lineComment }],
    '/': [
      {
        when: (s) => s.peek(1) === '*',
        scan: blockComment({
          nested: true,
          unclosed:
            'The SQL text has a /* comment that is never closed with */ (PostgreSQL comments nest, so every /* needs its own */).',
        }),
      },
    ],
    "'": [{ scan: quoted('string', { backslashEscapes: !standardConformingStrings, unclosed: unclosedQuote }) }],
    '"': [{ scan: quoted('quoted-name', { unclosed: unclosedQuote }) }],
    $: [{ when: (s) => isDigit(s.peek(1)), scan: placeholder }, { scan: dollarQuoted }],
    '.': [{ when: (s) => isDigit(s.peek(1)), scan: number }],
  },
  number,
  isWordStart: isIdentStart,
  word: wordOrPrefixedString(standardConformingStrings),
  punctuation: '(),;.[]',
  // PostgreSQL builds operators from many characters; one token per character is enough to compare shapes.
  other: single('operator'),
});

/**
 * A small PostgreSQL lexer (after scan.l), used for one question only: does the text split into the
 * same tokens whether the server has standard_conforming_strings on or off? With it off, a backslash
 * escapes the quote in a plain '...' string, so `'a\'` ends somewhere else and what libpg-query (which
 * assumes on) read as a string could be code for the server. The parser itself is libpg-query.
 */
export function lexPostgres(sql: string, standardConformingStrings: boolean): LexedSql {
  return scanSql(sql, postgresTable(standardConformingStrings));
}
