import { refuse } from './sql-refusal';
import type { LexedSql, SqlComment, SqlToken } from './sql-token';

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
const isDigit = (c: string) => c >= '0' && c <= '9';
// T-SQL names may hold letters, digits, _, @, #, $ and characters beyond ASCII (#temp, ##global, @var).
const isWordChar = (c: string) => /[A-Za-z0-9_@#$]/.test(c) || c.charCodeAt(0) >= 0x80;
const OPERATOR_CHARS = '+-*/%=<>!&|^~:{}';

/**
 * Lexes T-SQL as SQL Server does: `--` always starts a line comment, block comments NEST
 * (`/* a /* b *\/ c *\/` is one comment), strings double their quote and know no backslash escape,
 * [names] double their `]`. "..." is a name under QUOTED_IDENTIFIER ON and a string under OFF;
 * both end at the same quote, so the shape of the text is the same either way.
 */
export function lexMssql(sql: string): LexedSql {
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
      const end = quotedEnd(sql, i, "'");
      push('string', i, end);
      i = end;
    } else if (c === '"') {
      const end = quotedEnd(sql, i, '"');
      push('quoted-name', i, end);
      i = end;
    } else if (c === '[') {
      const end = quotedEnd(sql, i, ']');
      push('quoted-name', i, end);
      i = end;
    } else if (c === '@') {
      let end = i + 1;
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
      refuse(`The SQL text contains the character ${JSON.stringify(c)} at position ${i}, which T-SQL does not use outside strings.`);
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
  return refuse('The SQL text has a /* comment that is never closed with */ (T-SQL comments nest, so every /* needs its own */).');
}

function quotedEnd(sql: string, start: number, close: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] === close) {
      if (sql[i + 1] === close) i++;
      else return i + 1;
    }
  }
  return refuse(`The SQL text has a ${sql[start]} at position ${start} that is never closed.`);
}
