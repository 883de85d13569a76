import { loadModule, parseSync } from 'libpg-query';
import { refuseControlCharacters } from './control-characters';
import { POSTGRES_AST_KEYS } from './postgres-ast-keys';
import { POSTGRES_READ_FUNCTIONS } from './postgres-functions';
import { lexPostgres } from './postgres-lexer';
import { refuse, SqlRefusal } from './sql-refusal';
import { lexicalShape } from './sql-token';

type AstNode = Record<string, unknown>;

let parserLoaded: Promise<void> | undefined;
/** libpg-query is the server's own parser compiled to WebAssembly; it must be instantiated once. */
export function loadPostgresParser(): Promise<void> {
  parserLoaded ??= loadModule().catch((err: unknown) => {
    parserLoaded = undefined;
    throw err;
  });
  return parserLoaded;
}

/** Refuses (throws SqlRefusal) unless `sql` is one PostgreSQL read statement without side effects. */
export async function checkPostgres(sql: string): Promise<void> {
  refuseControlCharacters(sql);
  refuseIfStringSettingChangesTheText(sql);
  await loadPostgresParser();
  let tree: { stmts?: { stmt?: AstNode }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch (err) {
    if (sql.trim() === '') refuse('The text holds no SQL statement; send one SELECT.');
    refuse(
      `The text does not parse as PostgreSQL (${(err as Error).message}); only valid SQL can be checked, so it is refused.`,
    );
  }
  const statements = tree.stmts ?? [];
  if (statements.length === 0) refuse('The text holds no SQL statement; send one SELECT.');
  if (statements.length > 1) {
    refuse(
      `The text holds ${statements.length} statements; send exactly one read statement per query (anything after the first could write).`,
    );
  }
  checkStatement(statements[0]!.stmt ?? {});
}

/**
 * libpg-query reads text as a server with standard_conforming_strings on. A server with it off ends
 * a '...' string at a different quote when a backslash precedes one, so the text could hide code the
 * parser saw as a string. Refuse when the two readings split the text differently.
 */
function refuseIfStringSettingChangesTheText(sql: string): void {
  const shape = (standard: boolean): string | undefined => {
    try {
      return lexicalShape(lexPostgres(sql, standard));
    } catch (err) {
      if (err instanceof SqlRefusal) return undefined;
      throw err;
    }
  };
  const on = shape(true);
  const off = shape(false);
  if (on !== off && (on !== undefined || off !== undefined)) {
    refuse(
      "A backslash before a quote inside a '...' string makes the text read differently when the server's standard_conforming_strings is off; write that string as E'...' with the backslash doubled, or drop the backslash.",
    );
  }
}

const STATEMENT_REASONS: Record<string, string> = {
  InsertStmt: 'INSERT writes data',
  UpdateStmt: 'UPDATE writes data',
  DeleteStmt: 'DELETE writes data',
  MergeStmt: 'MERGE writes data',
  CopyStmt: 'COPY reads or writes files and can run programs on the server',
  DoStmt: 'DO runs procedural code',
  CallStmt: 'CALL runs a procedure',
  TransactionStmt:
    'transaction control (BEGIN, COMMIT, ROLLBACK, SET TRANSACTION ...) would end or change the read-only transaction',
  VariableSetStmt: 'SET and RESET change session settings (including read-only mode and roles)',
  CreateTableAsStmt: 'CREATE TABLE AS / SELECT INTO creates a table',
  PrepareStmt: 'PREPARE stores a statement that could later write',
  ExecuteStmt: 'EXECUTE runs a prepared statement that could write',
  DeclareCursorStmt: 'DECLARE CURSOR keeps state in the session',
  LockStmt: 'LOCK takes table locks',
  NotifyStmt: 'NOTIFY signals other sessions',
  ListenStmt: 'LISTEN changes session state',
  VacuumStmt: 'VACUUM and ANALYZE write to the database',
  GrantStmt: 'GRANT and REVOKE change privileges',
  GrantRoleStmt: 'GRANT and REVOKE change privileges',
  AlterSystemStmt: 'ALTER SYSTEM changes the server configuration',
  LoadStmt: 'LOAD loads a shared library into the server',
};

function checkStatement(stmt: AstNode): void {
  const [kind, body] = Object.entries(stmt)[0] ?? ['(empty)', {}];
  const node = body as AstNode;
  if (kind === 'SelectStmt') return walk(node, 'SelectStmt');
  if (kind === 'VariableShowStmt') return;
  if (kind === 'ExplainStmt') return checkExplain(node);
  const why = STATEMENT_REASONS[kind] ?? `${describeStatement(kind)} is not a read`;
  refuse(
    `Only a single read statement (SELECT, WITH ... SELECT, VALUES, TABLE, EXPLAIN without ANALYZE, SHOW) is allowed: ${why}.`,
  );
}

const describeStatement = (kind: string) =>
  kind
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase() + ' statement';

// EXPLAIN options that only change what the plan shows; ANALYZE (which runs the statement) is handled apart.
const EXPLAIN_OPTIONS = new Set([
  'verbose',
  'costs',
  'settings',
  'generic_plan',
  'buffers',
  'wal',
  'timing',
  'summary',
  'memory',
  'serialize',
  'format',
]);

function checkExplain(node: AstNode): void {
  for (const option of (node.options as AstNode[] | undefined) ?? []) {
    const def = option.DefElem as { defname?: string; arg?: AstNode } | undefined;
    const name = def?.defname ?? '';
    if (name === 'analyze') {
      const value = String(
        ((def?.arg?.String as AstNode | undefined)?.sval as string | undefined) ?? 'true',
      ).toLowerCase();
      if (!['false', 'off', '0'].includes(value))
        refuse('EXPLAIN ANALYZE executes the statement it explains; use EXPLAIN without ANALYZE.');
    } else if (!EXPLAIN_OPTIONS.has(name)) {
      refuse(
        `EXPLAIN option ${name.toUpperCase()} is not allowed; use VERBOSE, COSTS, SETTINGS, BUFFERS, SUMMARY or FORMAT.`,
      );
    }
  }
  const query = (node.query as AstNode | undefined) ?? {};
  if (!('SelectStmt' in query))
    refuse('EXPLAIN is allowed only for a SELECT; explaining a write is refused like the write itself.');
  walk(query.SelectStmt as AstNode, 'SelectStmt');
}

// Keys whose presence alone is a refusal, with the reason a user can act on.
const REFUSED_KEYS: Record<string, string> = {
  intoClause: 'SELECT INTO creates a table; select the rows without INTO',
  lockingClause: 'FOR UPDATE / FOR SHARE lock rows; remove the locking clause',
  InsertStmt: 'a data-modifying statement (INSERT) inside the query, e.g. in a WITH clause, writes data',
  UpdateStmt: 'a data-modifying statement (UPDATE) inside the query, e.g. in a WITH clause, writes data',
  DeleteStmt: 'a data-modifying statement (DELETE) inside the query, e.g. in a WITH clause, writes data',
  MergeStmt: 'a data-modifying statement (MERGE) inside the query, e.g. in a WITH clause, writes data',
};

/**
 * Visits every key of the parse tree. Node types and field names must both be on an allowlist built
 * from read-only queries, so a construct the list has never seen is refused rather than trusted.
 */
function walk(value: unknown, key: string): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, key);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as AstNode)) {
    const refused = REFUSED_KEYS[k];
    if (refused) refuse(`Refused: ${refused}.`);
    if (!POSTGRES_AST_KEYS.has(k)) {
      refuse(
        `The query uses a PostgreSQL construct (${k}) that is not on the agent's list of read-only constructs; rewrite it as a plain SELECT.`,
      );
    }
    if (k === 'FuncCall') checkFunction(v as AstNode);
    if (k === 'A_Expr') checkOperator((v as AstNode).name);
    if (k === 'SortBy') checkOperator((v as AstNode).useOp);
    if (k === 'SubLink') checkOperator((v as AstNode).operName);
    if (k === 'RangeTableSample') checkTableSample(v as AstNode);
    walk(v, k);
  }
}

const names = (list: unknown): string[] =>
  ((list as AstNode[] | undefined) ?? []).map((n) => String((n.String as AstNode | undefined)?.sval ?? ''));

function checkFunction(call: AstNode): void {
  const parts = names(call.funcname);
  const qualified = parts.join('.');
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog')) {
    refuse(
      `Function ${qualified} is schema-qualified outside pg_catalog: user-defined and extension functions can write or have side effects, so only built-in read functions are allowed.`,
    );
  }
  const name = parts[parts.length - 1] ?? '';
  if (!POSTGRES_READ_FUNCTIONS.has(name)) {
    refuse(
      `Function ${name}() is not on the agent's list of read-only PostgreSQL functions (it may write, wait, lock, signal, touch files or be user-defined); remove it from the query.`,
    );
  }
}

function checkOperator(operatorName: unknown): void {
  const parts = names(operatorName);
  if (parts.length > 1 && parts[0] !== 'pg_catalog') {
    refuse(
      `Operator ${parts.join('.')} is schema-qualified outside pg_catalog; user-defined operators run user-defined functions, so they are refused.`,
    );
  }
}

function checkTableSample(sample: AstNode): void {
  const method = names(sample.method).join('.').toLowerCase();
  if (method !== 'system' && method !== 'bernoulli')
    refuse(`TABLESAMPLE method ${method} is not built in; use SYSTEM or BERNOULLI.`);
}
