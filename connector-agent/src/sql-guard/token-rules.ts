import { refuse } from './sql-refusal';
import { closingParen, isPunctuation, isWord, type LexedSql, type SqlToken } from './sql-token';

/**
 * What one dialect allows, checked on the dialect-correct token stream. These rules do not depend on
 * how node-sql-parser (which is not the server's parser) builds its tree, so they still hold where
 * that parser reads a text more leniently than the server.
 */
export interface TokenRules {
  dialect: string;
  /** Words a statement may start with (besides an opening parenthesis). */
  firstWords: ReadonlySet<string>;
  /** Words that never belong in a read, with the reason; they are reserved, so never a bare column name. */
  deniedWords: ReadonlyMap<string, string>;
  /** Two-word sequences that never belong in a read (e.g. FOR SHARE), keyed 'FIRST SECOND'. */
  deniedPairs: ReadonlyMap<string, string>;
  /** Words that may stand before "(" without being a function call (IN (...), OVER (...), ...). */
  syntaxWords: ReadonlySet<string>;
  functions: ReadonlySet<string>;
  /** Names that are refused right after a dot (MariaDB's Oracle mode reads seq.NEXTVAL as a sequence step). */
  deniedAfterDot: ReadonlyMap<string, string>;
  /** Methods callable after a dot (T-SQL xml methods); every other qualified call is refused. */
  methods: ReadonlySet<string>;
  /** Why a well-known dangerous function is refused, for a clearer message. */
  functionReasons: ReadonlyMap<string, string>;
}

/** Returns the tokens of the one statement in the text, refusing none or several. */
export function singleStatement(lexed: LexedSql, dialect: string): SqlToken[] {
  const statements: SqlToken[][] = [[]];
  for (const token of lexed.tokens) {
    if (isPunctuation(token, ';')) statements.push([]);
    else statements[statements.length - 1]!.push(token);
  }
  const nonEmpty = statements.filter((s) => s.length > 0);
  if (nonEmpty.length === 0) refuse('The text holds no SQL statement; send one SELECT.');
  if (nonEmpty.length > 1) {
    refuse(
      `The text holds ${nonEmpty.length} ${dialect} statements; send exactly one read statement per query (anything after the first could write).`,
    );
  }
  return nonEmpty[0]!;
}

const unquote = (t: SqlToken) => (t.kind === 'word' ? t.text : t.text.slice(1, -1)).toUpperCase();

export function checkTokens(tokens: SqlToken[], rules: TokenRules): void {
  const first = tokens[0]!;
  if (!isPunctuation(first, '(') && !(first.kind === 'word' && rules.firstWords.has(first.text.toUpperCase()))) {
    refuse(
      `The statement starts with ${first.text}; only ${[...rules.firstWords].join(', ')} (read statements) are allowed.`,
    );
  }
  tokens.forEach((token, i) => {
    const previous = tokens[i - 1];
    const next = tokens[i + 1];
    const afterDot = isPunctuation(previous, '.');
    const calls = isPunctuation(next, '(');
    if (token.kind === 'word' && !afterDot) {
      const word = token.text.toUpperCase();
      if (calls) checkCall(tokens, i, rules);
      else {
        const denied = rules.deniedWords.get(word);
        if (denied) refuse(`${word} is not allowed in a read-only query: ${denied}.`);
      }
      const pair = next?.kind === 'word' ? rules.deniedPairs.get(`${word} ${next.text.toUpperCase()}`) : undefined;
      if (pair) refuse(`${word} ${next!.text.toUpperCase()} is not allowed in a read-only query: ${pair}.`);
    } else if (token.kind === 'word' && rules.deniedAfterDot.has(token.text.toUpperCase())) {
      refuse(
        `.${token.text} is not allowed in a read-only query: ${rules.deniedAfterDot.get(token.text.toUpperCase())}.`,
      );
    } else if (calls && afterDot && (token.kind === 'word' || token.kind === 'quoted-name')) {
      const method = unquote(token);
      if (!rules.methods.has(method)) {
        refuse(
          `${tokens[i - 2]?.text ?? ''}.${token.text}(...) calls a stored or user-defined function; these can write, so only built-in ${rules.dialect} functions are allowed.`,
        );
      }
    } else if (calls && (token.kind === 'quoted-name' || (token.kind === 'string' && token.text.startsWith('"')))) {
      // A quoted name followed by "(" still calls that function (MySQL resolves `sleep`(1) to SLEEP).
      checkCall(tokens, i, rules);
    }
    if (token.kind === 'operator' && token.text === ':' && next?.text === '=' && next.start === token.end) {
      refuse(':= assigns a variable, which changes session state; compare with = instead.');
    }
  });
}

function checkCall(tokens: SqlToken[], i: number, rules: TokenRules): void {
  const name = unquote(tokens[i]!);
  if (tokens[i]!.kind === 'word' && rules.syntaxWords.has(name)) return;
  const previous = tokens[i - 1];
  // `AS name (a, b)` names the columns of a derived table, and `WITH name (a, b) AS (...)` those of a CTE.
  if (isWord(previous, 'AS')) return;
  const close = closingParen(tokens, i + 1);
  if (
    (isWord(previous, 'WITH', 'RECURSIVE') || isPunctuation(previous, ',')) &&
    isWord(tokens[close + 1], 'AS') &&
    isPunctuation(tokens[close + 2], '(')
  )
    return;
  if (rules.functions.has(name)) return;
  const why = rules.functionReasons.get(name);
  refuse(
    why
      ? `${name}() is not allowed in a read-only query: ${why}.`
      : `${name}() is not on the agent's list of read-only ${rules.dialect} functions (stored, user-defined and side-effecting functions can write, wait or lock); remove it from the query.`,
  );
}

/**
 * The text node-sql-parser gets: comments dropped (each becomes one space) so it cannot read a
 * comment where the server reads code or the reverse, and a space between two adjacent minus signs
 * so it cannot take `--1` for a comment when MySQL reads two minus signs.
 */
export function parserText(sql: string, tokens: SqlToken[]): string {
  let out = '';
  tokens.forEach((token, i) => {
    const previous = tokens[i - 1];
    if (previous && (previous.end !== token.start || (previous.text === '-' && token.text === '-'))) out += ' ';
    out += sql.slice(token.start, token.end);
  });
  return out;
}
