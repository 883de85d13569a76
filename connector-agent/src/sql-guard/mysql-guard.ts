import { Parser as MariadbParser } from 'node-sql-parser/build/mariadb';
import { Parser as MysqlParser } from 'node-sql-parser/build/mysql';
import { refuseControlCharacters } from './control-characters';
import { MYSQL_READ_FUNCTIONS } from './mysql-functions';
import { lexMysql, MYSQL_LEX_MODES } from './mysql-lexer';
import { checkParserAst, type AstRules } from './sql-parser-ast';
import { refuse, SqlRefusal } from './sql-refusal';
import { isWord, lexicalShape, type LexedSql, type SqlToken } from './sql-token';
import { checkTokens, parserText, singleStatement, type TokenRules } from './token-rules';

const DIALECT = 'MySQL/MariaDB';

const TOKEN_RULES: TokenRules = {
  dialect: DIALECT,
  firstWords: new Set(['SELECT', 'WITH', 'SHOW', 'EXPLAIN', 'DESCRIBE', 'DESC', 'VALUES', 'TABLE']),
  deniedWords: new Map([
    ['INSERT', 'it writes data'],
    ['UPDATE', 'it writes data, and FOR UPDATE locks rows'],
    ['DELETE', 'it writes data'],
    ['REPLACE', 'it writes data'],
    ['INTO', 'SELECT ... INTO writes a file (OUTFILE, DUMPFILE), a table or variables'],
    ['OUTFILE', 'it writes a file on the database server'],
    ['DUMPFILE', 'it writes a file on the database server'],
    ['LOCK', 'LOCK IN SHARE MODE and LOCK TABLES take locks'],
    ['UNLOCK', 'it releases table locks'],
    ['PROCEDURE', 'PROCEDURE ANALYSE and procedures run code'],
    ['CREATE', 'it is DDL'],
    ['DROP', 'it is DDL'],
    ['ALTER', 'it is DDL'],
    ['RENAME', 'it is DDL'],
    ['GRANT', 'it changes privileges'],
    ['REVOKE', 'it changes privileges'],
    ['CALL', 'it runs a stored procedure'],
    ['LOAD', 'it loads data from a file'],
    ['ANALYZE', 'EXPLAIN ANALYZE runs the statement and ANALYZE TABLE writes statistics'],
    ['OPTIMIZE', 'it rebuilds tables'],
    ['PURGE', 'it deletes binary logs'],
    ['KILL', 'it ends other sessions'],
    ['SIGNAL', 'it raises conditions from stored code'],
    ['RESIGNAL', 'it raises conditions from stored code'],
    ['RELEASE', 'it releases savepoints or locks'],
    ['CHANGE', 'it changes replication'],
  ]),
  deniedPairs: new Map([
    ['FOR SHARE', 'it locks rows'],
    ['NEXT VALUE', 'NEXT VALUE FOR advances a sequence'],
  ]),
  deniedAfterDot: new Map([['NEXTVAL', "in MariaDB's Oracle mode sequence.NEXTVAL advances a sequence"]]),
  syntaxWords: new Set([
    'IN',
    'EXISTS',
    'AS',
    'VALUES',
    'ROW',
    'USING',
    'OVER',
    'ON',
    'AND',
    'OR',
    'NOT',
    'XOR',
    'WHERE',
    'SELECT',
    'FROM',
    'JOIN',
    'HAVING',
    'WHEN',
    'THEN',
    'ELSE',
    'CASE',
    'LIKE',
    'REGEXP',
    'RLIKE',
    'BETWEEN',
    'ALL',
    'ANY',
    'SOME',
    'DISTINCT',
    'LATERAL',
    'DIV',
    'UNION',
    'INTERSECT',
    'EXCEPT',
    'BY',
    'INDEX',
    'KEY',
    'PARTITION',
    'FOR',
    'OF',
    'IS',
    'WITH',
    'RECURSIVE',
    'STRAIGHT_JOIN',
  ]),
  functions: MYSQL_READ_FUNCTIONS,
  methods: new Set(),
  functionReasons: new Map([
    ['SLEEP', 'it makes the server wait and holds a connection'],
    ['BENCHMARK', 'it burns server CPU on purpose'],
    ['GET_LOCK', 'named locks outlive the query in the session'],
    ['RELEASE_LOCK', 'named locks outlive the query in the session'],
    ['RELEASE_ALL_LOCKS', 'named locks outlive the query in the session'],
    ['IS_FREE_LOCK', 'named locks are session state'],
    ['IS_USED_LOCK', 'named locks are session state'],
    ['LOAD_FILE', 'it reads files on the database server'],
    ['MASTER_POS_WAIT', 'it blocks on replication'],
    ['MASTER_GTID_WAIT', 'it blocks on replication'],
    ['SOURCE_POS_WAIT', 'it blocks on replication'],
    ['WAIT_FOR_EXECUTED_GTID_SET', 'it blocks on replication'],
    ['LAST_INSERT_ID', 'LAST_INSERT_ID(expr) sets session state'],
    ['NEXTVAL', 'it advances a sequence'],
    ['SETVAL', 'it sets a sequence'],
    ['LASTVAL', 'sequence functions are not reads of data'],
    ['NAME_CONST', 'it exists for stored-procedure logging and is a known injection trick'],
  ]),
};

const AST_RULES: AstRules = {
  dialect: DIALECT,
  statementTypes: new Set(['select', 'show', 'desc', 'explain']),
  // node-sql-parser represents EXISTS (subquery) as a call named EXISTS.
  functions: new Set([...MYSQL_READ_FUNCTIONS, 'EXISTS']),
  methods: new Set(),
  tableHints: new Set(),
};

// What SHOW may list: schema objects and settings, nothing that runs anything.
const SHOW_OBJECTS = new Set([
  'TABLES',
  'COLUMNS',
  'FIELDS',
  'INDEX',
  'INDEXES',
  'KEYS',
  'DATABASES',
  'SCHEMAS',
  'VARIABLES',
  'STATUS',
  'COLLATION',
  'CHARSET',
  'ENGINES',
  'WARNINGS',
  'ERRORS',
]);

/** Refuses (throws SqlRefusal) unless `sql` is one MySQL/MariaDB read statement without side effects. */
export function checkMysql(sql: string): void {
  refuseControlCharacters(sql);
  const lexed = lexUnderEverySqlMode(sql);
  const hidden = lexed.comments.find((c) => c.kind !== 'plain');
  if (hidden) {
    refuse(
      hidden.kind === 'executable'
        ? 'The text has a MySQL/MariaDB executable comment (/*! ... */ or /*M! ... */): the server runs what is inside it, so write that SQL without the comment wrapper.'
        : 'The text has an optimizer hint comment (/*+ ... */), which can change session settings for the statement; remove it.',
    );
  }
  const tokens = singleStatement(lexed, DIALECT);
  checkTokens(tokens, TOKEN_RULES);
  if (isWord(tokens[0], 'SHOW')) checkShow(tokens);
  const text = parserText(sql, tokens);
  const parsed = parseWithEitherGrammar(text);
  for (const result of parsed) checkParserAst(result, AST_RULES);
}

/**
 * The server's sql_mode decides whether a backslash escapes a quote (NO_BACKSLASH_ESCAPES) and
 * whether "..." is a string or a name (ANSI_QUOTES). A text is accepted only if it splits into the
 * same tokens under all four combinations, so no setting can turn what we read as a string into code.
 */
function lexUnderEverySqlMode(sql: string): LexedSql {
  const [usual, ...others] = MYSQL_LEX_MODES;
  const lexed = lexMysql(sql, usual!);
  const shape = lexicalShape(lexed);
  for (const mode of others) {
    let other: string | undefined;
    try {
      other = lexicalShape(lexMysql(sql, mode));
    } catch (err) {
      if (!(err instanceof SqlRefusal)) throw err;
    }
    if (other !== shape) {
      refuse(
        `The text reads differently when the server's sql_mode has ${mode.backslashEscapes ? '' : 'NO_BACKSLASH_ESCAPES'}${!mode.backslashEscapes && mode.ansiQuotes ? ' and ' : ''}${mode.ansiQuotes ? 'ANSI_QUOTES' : ''} (a backslash or double quote inside a string moves where it ends); avoid backslashes before quotes and use single quotes for strings.`,
      );
    }
  }
  return lexed;
}

function checkShow(tokens: SqlToken[]): void {
  let i = 1;
  while (isWord(tokens[i], 'FULL', 'GLOBAL', 'SESSION', 'EXTENDED')) i++;
  const object = tokens[i]?.text.toUpperCase() ?? '';
  const next = tokens[i + 1]?.text.toUpperCase() ?? '';
  const allowed =
    SHOW_OBJECTS.has(object) ||
    (object === 'CREATE' && (next === 'TABLE' || next === 'VIEW')) ||
    (object === 'TABLE' && next === 'STATUS') ||
    (object === 'CHARACTER' && next === 'SET');
  if (!allowed)
    refuse(
      `SHOW ${object} is not on the agent's list; SHOW is allowed for TABLES, COLUMNS, INDEX, DATABASES, CREATE TABLE/VIEW, TABLE STATUS, VARIABLES, STATUS, COLLATION, CHARACTER SET, ENGINES, WARNINGS and ERRORS.`,
    );
}

// node-sql-parser ships one grammar per dialect; MariaDB and MySQL differ in places, so try both.
let grammars: { database: string; parser: MariadbParser | MysqlParser }[] | undefined;
const loadGrammars = () =>
  (grammars ??= [
    { database: 'mariadb', parser: new MariadbParser() },
    { database: 'mysql', parser: new MysqlParser() },
  ]);

/** Every grammar that accepts the text must find it safe; a text neither grammar accepts is refused. */
function parseWithEitherGrammar(text: string): { ast: unknown; tableList: string[] }[] {
  const results: { ast: unknown; tableList: string[] }[] = [];
  let firstError = '';
  for (const { database, parser } of loadGrammars()) {
    try {
      results.push(parser.parse(text, { database }));
    } catch (err) {
      firstError ||= (err as Error).message.split('\n')[0]!.slice(0, 200);
    }
  }
  if (results.length === 0) {
    refuse(
      `The agent's ${DIALECT} parser does not accept this text (${firstError}); only SQL it can check completely is allowed, so rewrite it as a plainer SELECT.`,
    );
  }
  return results;
}
