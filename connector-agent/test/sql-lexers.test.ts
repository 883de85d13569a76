import { lexMssql } from '../src/sql-guard/mssql-lexer';
import { lexMysql } from '../src/sql-guard/mysql-lexer';
import { lexPostgres } from '../src/sql-guard/postgres-lexer';
import type { LexedSql } from '../src/sql-guard/sql-token';

// The corpus tests check verdicts only; these pin the lexers' own output (tokens, comments and refusal
// messages) on the places where the dialects differ, so a change to the shared scanner that moves a
// token boundary in one dialect fails here even when no verdict changes. The expectations were taken
// from the lexers as they were before they shared sql-scanner.ts.
type Expected = { tokens: string[]; comments: string[] } | { refused: string };

const brief = (lex: () => LexedSql): Expected => {
  try {
    const { tokens, comments } = lex();
    return {
      tokens: tokens.map((t) => `${t.kind} ${t.text}`),
      comments: comments.map((c) => `${c.kind} ${c.start}-${c.end}`),
    };
  } catch (err) {
    return { refused: (err as Error).message };
  }
};

const CASES: [string, () => LexedSql, Expected][] = [
  [
    'postgres',
    () => lexPostgres("SELECT $1, $$a'b$$, $t$x$t$, E'a\\'b', U&\"x\", x.5 /* a /* b */ c */ -- end", true),
    {
      tokens: [
        'word SELECT',
        'placeholder $1',
        'punctuation ,',
        "string $$a'b$$",
        'punctuation ,',
        'string $t$x$t$',
        'punctuation ,',
        "string E'a\\'b'",
        'punctuation ,',
        'quoted-name U&"x"',
        'punctuation ,',
        'word x',
        'number .5',
      ],
      comments: ['plain 49-66', 'plain 67-73'],
    },
  ],
  [
    'postgres',
    () => lexPostgres("SELECT 'a\\' , 1..2 # ok", true),
    {
      tokens: [
        'word SELECT',
        "string 'a\\'",
        'punctuation ,',
        'number 1',
        'punctuation .',
        'number .2',
        'operator #',
        'word ok',
      ],
      comments: [],
    },
  ],
  [
    'postgres (standard_conforming_strings off)',
    () => lexPostgres("SELECT 'a\\' , 1..2 # ok", false),
    { refused: "The SQL text has a ' quote at position 7 that is never closed." },
  ],
  ['postgres', () => lexPostgres('SELECT $ 1', true), { refused: 'The SQL text has a stray $ at position 7.' }],
  ['postgres', () => lexPostgres('SELECT $a', true), { refused: 'The SQL text has a stray $ at position 7.' }],
  [
    'postgres',
    () => lexPostgres('SELECT /* /* */', true),
    {
      refused:
        'The SQL text has a /* comment that is never closed with */ (PostgreSQL comments nest, so every /* needs its own */).',
    },
  ],
  [
    'postgres',
    () => lexPostgres("SELECT 'x", true),
    { refused: "The SQL text has a ' quote at position 7 that is never closed." },
  ],
  [
    'mysql',
    () =>
      lexMysql('SELECT @a, @@b, @ , ?, 1e5, 0x1F, `n``m`, "s\\"" # c\n--x -- d', {
        backslashEscapes: true,
        ansiQuotes: false,
      }),
    {
      tokens: [
        'word SELECT',
        'variable @a',
        'punctuation ,',
        'variable @@b',
        'punctuation ,',
        'operator @',
        'punctuation ,',
        'placeholder ?',
        'punctuation ,',
        'number 1e5',
        'punctuation ,',
        'word 0x1F',
        'punctuation ,',
        'quoted-name `n``m`',
        'punctuation ,',
        'string "s\\""',
        'operator -',
        'operator -',
        'word x',
      ],
      comments: ['plain 48-51', 'plain 56-60'],
    },
  ],
  [
    'mysql',
    () =>
      lexMysql('SELECT /*!50000 1 */ /*M! 2 */ /*+ hint */ /* a /* b */', {
        backslashEscapes: true,
        ansiQuotes: false,
      }),
    { tokens: ['word SELECT'], comments: ['executable 7-20', 'executable 21-30', 'hint 31-42', 'plain 43-55'] },
  ],
  [
    'mysql ANSI_QUOTES',
    () => lexMysql('SELECT "a"', { backslashEscapes: true, ansiQuotes: true }),
    { tokens: ['word SELECT', 'quoted-name "a"'], comments: [] },
  ],
  [
    'mysql NO_BACKSLASH_ESCAPES',
    () => lexMysql("SELECT 'a\\'", { backslashEscapes: false, ansiQuotes: false }),
    { tokens: ['word SELECT', "string 'a\\'"], comments: [] },
  ],
  [
    'mysql',
    () => lexMysql('SELECT [x]', { backslashEscapes: true, ansiQuotes: false }),
    {
      refused:
        'The SQL text contains the character "[" at position 7, which MySQL/MariaDB SQL does not use outside strings.',
    },
  ],
  [
    'mysql',
    () => lexMysql('SELECT /* open', { backslashEscapes: true, ansiQuotes: false }),
    { refused: 'The SQL text has a /* comment that is never closed with */.' },
  ],
  [
    'mssql',
    () => lexMssql('SELECT @v, @@ROWCOUNT, #t, ##g, [a]]b], N\'x\', "q" /* a /* b */ c */ -- d'),
    {
      tokens: [
        'word SELECT',
        'variable @v',
        'punctuation ,',
        'variable @@ROWCOUNT',
        'punctuation ,',
        'word #t',
        'punctuation ,',
        'word ##g',
        'punctuation ,',
        'quoted-name [a]]b]',
        'punctuation ,',
        'word N',
        "string 'x'",
        'punctuation ,',
        'quoted-name "q"',
      ],
      comments: ['plain 50-67', 'plain 68-72'],
    },
  ],
  [
    'mssql',
    () => lexMssql("SELECT 'C:\\' AS p"),
    { tokens: ['word SELECT', "string 'C:\\'", 'word AS', 'word p'], comments: [] },
  ],
  [
    'mssql',
    () => lexMssql('SELECT `x`'),
    { refused: 'The SQL text contains the character "`" at position 7, which T-SQL does not use outside strings.' },
  ],
  ['mssql', () => lexMssql('SELECT [x'), { refused: 'The SQL text has a [ at position 7 that is never closed.' }],
  [
    'mssql',
    () => lexMssql('SELECT /* /* */'),
    {
      refused:
        'The SQL text has a /* comment that is never closed with */ (T-SQL comments nest, so every /* needs its own */).',
    },
  ],
];

describe('SQL lexers on the shared scanner', () => {
  test.each(CASES.map(([dialect, lex, expected], i) => [`${i} ${dialect}`, lex, expected] as const))(
    '%s',
    (_name, lex, expected) => {
      expect(brief(lex)).toEqual(expected);
    },
  );
});
