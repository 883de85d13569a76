import { Parser as TransactsqlParser } from 'node-sql-parser/build/transactsql';
import { refuseControlCharacters } from './control-characters';
import { MSSQL_READ_FUNCTIONS, MSSQL_READ_METHODS } from './mssql-functions';
import { lexMssql } from './mssql-lexer';
import { checkParserAst, type AstRules } from './sql-parser-ast';
import { refuse } from './sql-refusal';
import { isPunctuation, isWord, type SqlToken } from './sql-token';
import { checkTokens, parserText, singleStatement, type TokenRules } from './token-rules';

const DIALECT = 'T-SQL';

const LOCK_HINT = 'table hints that take or hold locks are not reads';
const TOKEN_RULES: TokenRules = {
  dialect: DIALECT,
  firstWords: new Set(['SELECT', 'WITH']),
  deniedWords: new Map([
    ...['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'WRITETEXT', 'UPDATETEXT', 'BULK'].map(
      (w) => [w, 'it writes data'] as const,
    ),
    ['INTO', 'SELECT ... INTO creates a table'],
    ...['CREATE', 'DROP', 'ALTER'].map((w) => [w, 'it is DDL'] as const),
    ...['EXEC', 'EXECUTE'].map((w) => [w, 'it runs procedures (sp_*, xp_*) or dynamic SQL'] as const),
    ...['GRANT', 'REVOKE', 'DENY', 'SETUSER', 'REVERT'].map(
      (w) => [w, 'it changes privileges or the security context'] as const,
    ),
    ...['BACKUP', 'RESTORE', 'DBCC', 'KILL', 'SHUTDOWN', 'RECONFIGURE', 'CHECKPOINT', 'DUMP', 'LOAD'].map(
      (w) => [w, 'it administers the server'] as const,
    ),
    ['WAITFOR', 'it makes the server wait'],
    ...['OPENROWSET', 'OPENQUERY', 'OPENDATASOURCE', 'OPENXML'].map(
      (w) => [w, 'it reaches other servers, files or documents'] as const,
    ),
    ...['SET', 'DECLARE', 'USE'].map((w) => [w, 'it changes session state'] as const),
    ...['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVE', 'TRAN', 'TRANSACTION'].map(
      (w) => [w, 'transaction control would end or change the read-only transaction'] as const,
    ),
    ...[
      'PRINT',
      'RAISERROR',
      'GOTO',
      'WHILE',
      'IF',
      'RETURN',
      'BREAK',
      'CONTINUE',
      'PROCEDURE',
      'PROC',
      'FUNCTION',
      'TRIGGER',
    ].map((w) => [w, 'procedural T-SQL is not a read'] as const),
    ...['OPEN', 'CLOSE', 'DEALLOCATE', 'CURSOR', 'READTEXT'].map(
      (w) => [w, 'cursors keep state in the session'] as const,
    ),
    ...[
      'HOLDLOCK',
      'UPDLOCK',
      'XLOCK',
      'TABLOCK',
      'TABLOCKX',
      'PAGLOCK',
      'ROWLOCK',
      'SERIALIZABLE',
      'REPEATABLEREAD',
      'READCOMMITTEDLOCK',
    ].map((w) => [w, LOCK_HINT] as const),
  ]),
  deniedPairs: new Map([['NEXT VALUE', 'NEXT VALUE FOR advances a sequence']]),
  deniedAfterDot: new Map([['MODIFY', 'the xml modify() method changes data']]),
  syntaxWords: new Set([
    'IN',
    'EXISTS',
    'AS',
    'VALUES',
    'OVER',
    'ON',
    'AND',
    'OR',
    'NOT',
    'WHERE',
    'SELECT',
    'FROM',
    'JOIN',
    'APPLY',
    'HAVING',
    'WHEN',
    'THEN',
    'ELSE',
    'CASE',
    'LIKE',
    'BETWEEN',
    'ALL',
    'ANY',
    'SOME',
    'DISTINCT',
    'UNION',
    'INTERSECT',
    'EXCEPT',
    'BY',
    'TOP',
    'WITH',
    'OPTION',
    'PIVOT',
    'UNPIVOT',
    'FOR',
    'GROUP',
    'TABLESAMPLE',
    'INDEX',
    'FORCESEEK',
    'NEXT',
    'FETCH',
    'OFFSET',
    'PERCENT',
    'IS',
    'ESCAPE',
    'XMLNAMESPACES',
    'PATH',
    'ROOT',
    'RAW',
    'AUTO',
  ]),
  functions: MSSQL_READ_FUNCTIONS,
  methods: MSSQL_READ_METHODS,
  functionReasons: new Map([
    ['OPENROWSET', 'it reaches other servers and files'],
    ['OPENQUERY', 'it runs a query on a linked server, which can write'],
    ['OPENDATASOURCE', 'it reaches other servers'],
    ['OPENXML', 'it needs a prepared document handle from sp_xml_preparedocument'],
  ]),
};

const AST_RULES: AstRules = {
  dialect: DIALECT,
  statementTypes: new Set(['select']),
  // node-sql-parser represents EXISTS (subquery) as a call named EXISTS.
  functions: new Set([...MSSQL_READ_FUNCTIONS, 'EXISTS']),
  methods: MSSQL_READ_METHODS,
  tableHints: new Set([
    'NOLOCK',
    'READUNCOMMITTED',
    'READCOMMITTED',
    'SNAPSHOT',
    'READPAST',
    'NOEXPAND',
    'INDEX',
    'FORCESEEK',
    'FORCESCAN',
  ]),
};

let parser: TransactsqlParser | undefined;

/** Refuses (throws SqlRefusal) unless `sql` is one T-SQL read statement without side effects. */
export function checkMssql(sql: string): void {
  refuseControlCharacters(sql);
  const lexed = lexMssql(sql);
  const tokens = singleStatement(lexed, DIALECT);
  refuseUnterminatedStatements(tokens);
  checkTokens(tokens, TOKEN_RULES);
  parser ??= new TransactsqlParser();
  let parsed: { ast: unknown; tableList: string[] };
  try {
    parsed = parser.parse(parserText(sql, tokens), { database: 'transactsql' });
  } catch (err) {
    refuse(
      `The agent's T-SQL parser does not accept this text (${(err as Error).message.split('\n')[0]!.slice(0, 200)}); only SQL it can check completely is allowed, so rewrite it as a plainer SELECT.`,
    );
  }
  checkParserAst(parsed, AST_RULES);
}

/**
 * T-SQL needs no semicolon between statements: `SELECT 1 SELECT 2` is two. Outside parentheses, a
 * SELECT after the first must continue a UNION, EXCEPT or INTERSECT, or it starts another statement.
 */
function refuseUnterminatedStatements(tokens: SqlToken[]): void {
  let depth = 0;
  let selects = 0;
  tokens.forEach((token, i) => {
    if (isPunctuation(token, '(')) depth++;
    else if (isPunctuation(token, ')')) depth--;
    else if (
      depth === 0 &&
      isWord(token, 'SELECT') &&
      selects++ > 0 &&
      !isWord(tokens[i - 1], 'UNION', 'ALL', 'EXCEPT', 'INTERSECT')
    ) {
      refuse(
        'The text holds a second T-SQL statement (T-SQL needs no semicolon between statements); send exactly one read statement per query.',
      );
    }
  });
}
