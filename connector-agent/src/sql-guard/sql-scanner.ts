import { refuse } from './sql-refusal';
import type { LexedSql, SqlComment, SqlToken, SqlTokenKind } from './sql-token';

/**
 * The scanning machinery the three dialect lexers share. The dialects differ in which characters open
 * what (a `#` is a comment in MySQL and a name in T-SQL) and in how a quote ends, not in how a run is
 * consumed; keeping the loop here and the differences in one table per dialect lets a reader compare
 * the dialects side by side, and a fix to how runs are consumed reaches all three at once.
 */
export class SqlScanner {
  /** Index of the next character to read. */
  pos = 0;
  readonly tokens: SqlToken[] = [];
  readonly comments: SqlComment[] = [];

  constructor(readonly sql: string) {}

  /** The character `offset` places after the cursor, or '' past the end so predicates need no bounds check. */
  peek(offset = 0): string {
    return this.sql[this.pos + offset] ?? '';
  }

  /** Records the text from the cursor to `end` as one token and moves past it. */
  token(kind: SqlTokenKind, end: number): void {
    this.tokens.push({ kind, text: this.sql.slice(this.pos, end), start: this.pos, end });
    this.pos = end;
  }

  /** Records the text from the cursor to `end` as a comment and moves past it. */
  comment(kind: SqlComment['kind'], end: number): void {
    this.comments.push({ start: this.pos, end, kind });
    this.pos = end;
  }

  /** End (exclusive) of the run from `from` of characters `accept` takes; `at` lets it look ahead. */
  runEnd(from: number, accept: (c: string, at: number) => boolean): number {
    let end = from;
    while (end < this.sql.length && accept(this.sql[end]!, end)) end++;
    return end;
  }
}

/** Consumes one token or comment at the cursor; it must move the cursor forward, or refuse. */
export type Scan = (s: SqlScanner) => void;

/** A scanner for a token opened by one character, used only `when` the text after that character fits. */
export interface Opener {
  when?: (s: SqlScanner) => boolean;
  scan: Scan;
}

/**
 * One dialect's lexical rules. Each character is tried, in this order, as: whitespace, an opener of its
 * own, a digit, the start of a word, punctuation, and finally `other`, which decides whether it is an
 * operator or refused. The order is the dialect lexers' order, so a table reads like their old if-chains.
 */
export interface SqlLexTable {
  spaces: string;
  /** Keyed by the opening character; tried in order, and when none applies the character falls through. */
  openers: Readonly<Partial<Record<string, readonly Opener[]>>>;
  /** Scans a token starting with a digit. */
  number: Scan;
  isWordStart: (c: string) => boolean;
  word: Scan;
  punctuation: string;
  other: Scan;
}

export function scanSql(sql: string, table: SqlLexTable): LexedSql {
  const s = new SqlScanner(sql);
  while (s.pos < sql.length) {
    const c = sql[s.pos]!;
    if (table.spaces.includes(c)) {
      s.pos++;
      continue;
    }
    const opener = table.openers[c]?.find((o) => !o.when || o.when(s));
    if (opener) opener.scan(s);
    else if (isDigit(c)) table.number(s);
    else if (table.isWordStart(c)) table.word(s);
    else if (table.punctuation.includes(c)) s.token('punctuation', s.pos + 1);
    else table.other(s);
  }
  return { tokens: s.tokens, comments: s.comments };
}

export const SPACES = ' \t\n\r\f\v';
export const isDigit = (c: string) => c >= '0' && c <= '9';

/** A character test for names: the ASCII characters `ascii` matches, plus any character beyond ASCII (all three servers take those in names). */
export const wordCharacters =
  (ascii: RegExp) =>
  (c: string): boolean =>
    ascii.test(c) || c.charCodeAt(0) >= 0x80;

/** A one-character token of `kind`. */
export const single =
  (kind: SqlTokenKind): Scan =>
  (s) =>
    s.token(kind, s.pos + 1);

/** A word: the run of `isWordChar` characters from the cursor. */
export const word =
  (isWordChar: (c: string) => boolean): Scan =>
  (s) =>
    s.token('word', s.runEnd(s.pos, isWordChar));

/**
 * MySQL and T-SQL take a digit-led run of name characters (with decimal points between digits) as one
 * token; only a plain decimal or exponent number is a 'number', so `0x1F` or `1abc` stays one 'word'
 * and a rule on words sees it whole instead of a number followed by a name.
 */
export const numberOrWord =
  (isWordChar: (c: string) => boolean): Scan =>
  (s) => {
    const end = s.runEnd(s.pos, (c, at) => isWordChar(c) || (c === '.' && isDigit(s.sql[at + 1] ?? '')));
    s.token(/^[0-9.]+(e[0-9]*)?$/i.test(s.sql.slice(s.pos, end)) ? 'number' : 'word', end);
  };

/**
 * MySQL and T-SQL read names alike and differ only in which characters a name may hold, so their
 * number and word entries come from that one test: a digit-led run goes to numberOrWord, any other
 * run of name characters is a word.
 */
export const namesAndNumbers = (
  isWordChar: (c: string) => boolean,
): Pick<SqlLexTable, 'number' | 'isWordStart' | 'word'> => ({
  number: numberOrWord(isWordChar),
  isWordStart: isWordChar,
  word: word(isWordChar),
});

/**
 * `@name` or `@@name`; a lone `@` is an operator. T-SQL counts `@` among its name characters, so there
 * the word run alone would also take the second `@`; skipping it first gives the same end.
 */
export const variable =
  (isWordChar: (c: string) => boolean): Scan =>
  (s) => {
    const from = s.peek(1) === '@' ? s.pos + 2 : s.pos + 1;
    const end = s.runEnd(from, isWordChar);
    s.token(end > s.pos + 1 ? 'variable' : 'operator', end);
  };

/** Everything from the cursor to the end of the line (the line break itself is whitespace). */
export const lineComment: Scan = (s) => {
  const end = s.sql.indexOf('\n', s.pos);
  s.comment('plain', end < 0 ? s.sql.length : end);
};

export interface BlockCommentRule {
  /** PostgreSQL and T-SQL nest block comments: every inner `/*` needs its own `*\/`. */
  nested: boolean;
  /** The refusal for a comment that is never closed. */
  unclosed: string;
  /** What kind of comment it is, decided from its opening (MySQL's `/*!` runs); plain when omitted. */
  kind?: (s: SqlScanner) => SqlComment['kind'];
}

export const blockComment =
  (rule: BlockCommentRule): Scan =>
  (s) => {
    const end = rule.nested ? nestedCommentEnd(s.sql, s.pos) : flatCommentEnd(s.sql, s.pos);
    if (end < 0) refuse(rule.unclosed);
    s.comment(rule.kind?.(s) ?? 'plain', end);
  };

/** End (exclusive) of the nesting block comment opening at `start`, or -1 when it is never closed. */
function nestedCommentEnd(sql: string, start: number): number {
  let depth = 0;
  for (let i = start; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i++;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** End (exclusive) of the non-nesting block comment opening at `start`, or -1 when it is never closed. */
function flatCommentEnd(sql: string, start: number): number {
  const end = sql.indexOf('*/', start + 2);
  return end < 0 ? -1 : end + 2;
}

export interface QuoteRule {
  /** The closing character, when it is not the opening one (T-SQL's `[name]`). A doubled closer stands for one. */
  close?: string;
  /** A backslash takes the next character with it, so `\'` does not close the string. */
  backslashEscapes?: boolean;
  /** The refusal for a quoted run that is never closed, given its opening character and position. */
  unclosed: (quote: string, at: number) => string;
}

/** The refusal PostgreSQL and MySQL give for a quoted run that is never closed. */
export const unclosedQuote = (quote: string, at: number) =>
  `The SQL text has a ${quote} quote at position ${at} that is never closed.`;

/**
 * Scans the quoted run whose opening quote is `offset` characters after the cursor, emitting one token
 * from the cursor to its closing quote: a prefix such as PostgreSQL's E in E'...' belongs to the token.
 */
export function scanQuoted(s: SqlScanner, kind: SqlTokenKind, rule: QuoteRule, offset = 0): void {
  const at = s.pos + offset;
  const end = quotedEnd(s.sql, at, rule);
  if (end < 0) refuse(rule.unclosed(s.sql[at]!, at));
  s.token(kind, end);
}

export const quoted =
  (kind: SqlTokenKind, rule: QuoteRule): Scan =>
  (s) =>
    scanQuoted(s, kind, rule);

/** End (exclusive) of the quoted run opening at `start`, or -1 when it is never closed. */
function quotedEnd(sql: string, start: number, rule: QuoteRule): number {
  const close = rule.close ?? sql[start];
  for (let i = start + 1; i < sql.length; i++) {
    if (rule.backslashEscapes && sql[i] === '\\') i++;
    else if (sql[i] === close) {
      if (sql[i + 1] === close) i++;
      else return i + 1;
    }
  }
  return -1;
}

/**
 * For dialects whose every operator character is listed (MySQL, T-SQL): one of `operators` is a
 * one-character operator, and any other character is refused rather than guessed at.
 */
export const operatorOrRefuse =
  (operators: string, language: string): Scan =>
  (s) => {
    const c = s.peek();
    if (!operators.includes(c))
      refuse(
        `The SQL text contains the character ${JSON.stringify(c)} at position ${s.pos}, which ${language} does not use outside strings.`,
      );
    s.token('operator', s.pos + 1);
  };
