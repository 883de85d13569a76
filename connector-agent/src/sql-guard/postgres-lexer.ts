import { refuse } from './sql-refusal';
import type { LexedSql, SqlComment, SqlToken } from './sql-token';

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => /[A-Za-z_]/.test(c) || c.charCodeAt(0) >= 0x80;
const isIdentChar = (c: string) => /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;

/**
 * A small PostgreSQL lexer (after scan.l), used for one question only: does the text split into the
 * same tokens whether the server has standard_conforming_strings on or off? With it off, a backslash
 * escapes the quote in a plain '...' string, so `'a\'` ends somewhere else and what libpg-query (which
 * assumes on) read as a string could be code for the server. The parser itself is libpg-query.
 */
export function lexPostgres(sql: string, standardConformingStrings: boolean): LexedSql {
  const tokens: SqlToken[] = [];
  const comments: SqlComment[] = [];
  let i = 0;
  const push = (kind: SqlToken['kind'], start: number, end: number) => tokens.push({ kind, text: sql.slice(start, end), start, end });

  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1] ?? '';
    if (isSpace(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      comments.push({ start: i, end: end < 0 ? sql.length : end, kind: 'plain' });
      i = end < 0 ? sql.length : end;
    } else if (c === '/' && next === '*') {
      const end = nestedCommentEnd(sql, i);
      comments.push({ start: i, end, kind: 'plain' });
      i = end;
    } else if (c === "'") {
      const end = quotedEnd(sql, i, !standardConformingStrings);
      push('string', i, end);
      i = end;
    } else if (c === '"') {
      const end = quotedEnd(sql, i, false);
      push('quoted-name', i, end);
      i = end;
    } else if (c === '$' && isDigit(next)) {
      let end = i + 1;
      while (end < sql.length && isDigit(sql[end]!)) end++;
      push('placeholder', i, end);
      i = end;
    } else if (c === '$') {
      let tagEnd = i + 1;
      while (tagEnd < sql.length && isIdentChar(sql[tagEnd]!) && sql[tagEnd] !== '$') tagEnd++;
      if (sql[tagEnd] !== '$' || (tagEnd > i + 1 && !isIdentStart(sql[i + 1]!))) refuse(`The SQL text has a stray $ at position ${i}.`);
      const delimiter = sql.slice(i, tagEnd + 1);
      const close = sql.indexOf(delimiter, tagEnd + 1);
      if (close < 0) refuse(`The SQL text has a dollar-quoted string opened with ${delimiter} that is never closed.`);
      push('string', i, close + delimiter.length);
      i = close + delimiter.length;
    } else if (isDigit(c) || (c === '.' && isDigit(next))) {
      let end = i;
      while (end < sql.length && (isIdentChar(sql[end]!) || (sql[end] === '.' && sql[end + 1] !== '.'))) end++;
      push('number', i, end);
      i = end;
    } else if (isIdentStart(c)) {
      let end = i;
      while (end < sql.length && isIdentChar(sql[end]!)) end++;
      const word = sql.slice(i, end).toUpperCase();
      if (sql[end] === "'" && (word === 'E' || word === 'B' || word === 'X' || word === 'N')) {
        // E'...' always takes backslash escapes; B'', X'' take none; N'' is a plain string.
        const stringEnd = quotedEnd(sql, end, word === 'E' || (word === 'N' && !standardConformingStrings));
        push('string', i, stringEnd);
        i = stringEnd;
      } else if (word === 'U' && sql[end] === '&' && (sql[end + 1] === "'" || sql[end + 1] === '"')) {
        // U&'...' and U&"..." escape with \XXXX but never escape their quote that way.
        const stringEnd = quotedEnd(sql, end + 1, false);
        push(sql[end + 1] === "'" ? 'string' : 'quoted-name', i, stringEnd);
        i = stringEnd;
      } else {
        push('word', i, end);
        i = end;
      }
    } else if ('(),;.[]'.includes(c)) {
      push('punctuation', i, i + 1);
      i++;
    } else {
      push('operator', i, i + 1);
      i++;
    }
  }
  return { tokens, comments };
}

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
  return refuse('The SQL text has a /* comment that is never closed with */ (PostgreSQL comments nest, so every /* needs its own */).');
}

function quotedEnd(sql: string, start: number, backslashEscapes: boolean): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i++) {
    if (backslashEscapes && sql[i] === '\\') i++;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return refuse(`The SQL text has a ${quote} quote at position ${start} that is never closed.`);
}
