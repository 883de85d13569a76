/** One lexical token of a SQL text, with its position in that text. Comments are never tokens. */
export interface SqlToken {
  kind: SqlTokenKind;
  /** The token as written, quotes included. */
  text: string;
  start: number;
  end: number;
}

export type SqlTokenKind =
  /** An unquoted word: a keyword or a plain identifier. */
  | 'word'
  /** A quoted identifier (`name`, [name], or "name" where the dialect reads it as a name). */
  | 'quoted-name'
  | 'string'
  | 'number'
  /** @name, @@name: a user, system or T-SQL variable. */
  | 'variable'
  /** ? or $1. */
  | 'placeholder'
  | 'operator'
  /** ( ) , ; . */
  | 'punctuation';

export interface SqlComment {
  start: number;
  end: number;
  /** MySQL/MariaDB run the content of `/*! ... *\/` and `/*M! ... *\/`; `/*+ ... *\/` are optimizer hints. */
  kind: 'plain' | 'executable' | 'hint';
}

export interface LexedSql {
  tokens: SqlToken[];
  comments: SqlComment[];
}

export const isWord = (t: SqlToken | undefined, ...words: string[]): boolean =>
  t?.kind === 'word' && (words.length === 0 || words.includes(t.text.toUpperCase()));

export const isPunctuation = (t: SqlToken | undefined, text: string): boolean =>
  t?.kind === 'punctuation' && t.text === text;

/** Index of the `)` closing the `(` at `open`, or -1 when it is never closed. */
export function closingParen(tokens: SqlToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isPunctuation(tokens[i], '(')) depth++;
    else if (isPunctuation(tokens[i], ')') && --depth === 0) return i;
  }
  return -1;
}

/**
 * Start and end of every token and comment: two lexings of the same text with different settings
 * read it the same way only when these match.
 */
export function lexicalShape(lexed: LexedSql): string {
  const spans = [...lexed.tokens.map((t) => [t.start, t.end]), ...lexed.comments.map((c) => [c.start, c.end])];
  return spans
    .sort((a, b) => a[0]! - b[0]!)
    .map(([s, e]) => `${s}-${e}`)
    .join(',');
}
