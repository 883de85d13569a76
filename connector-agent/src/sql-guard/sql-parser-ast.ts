import { refuse } from './sql-refusal';

type Node = Record<string, unknown>;

export interface AstRules {
  dialect: string;
  /** Statement types node-sql-parser may report for the whole text. */
  statementTypes: ReadonlySet<string>;
  functions: ReadonlySet<string>;
  methods: ReadonlySet<string>;
  /** T-SQL table hints that only read (NOLOCK, INDEX(...)): any other hint takes or holds locks. */
  tableHints: ReadonlySet<string>;
}

// node-sql-parser's statement types other than select: none of them may appear anywhere in a read.
const WRITE_TYPES = new Set([
  'insert',
  'replace',
  'update',
  'delete',
  'merge',
  'create',
  'drop',
  'alter',
  'truncate',
  'rename',
  'use',
  'set',
  'lock',
  'unlock',
  'call',
  'grant',
  'revoke',
  'transaction',
  'load_data',
  'exec',
  'execute',
  'declare',
  'if',
  'go',
  'proc',
  'raise',
  'deallocate',
  'prepare',
  'assign',
  'into',
  'kill',
  'flush',
  'analyze',
  'optimize',
  'attach',
  'comment',
]);

/**
 * Second opinion on the tree node-sql-parser built from the comment-free text: one statement of an
 * allowed type, every table touched only for reading (its own tableList says so), no INTO, no locking
 * read, no assignment, only allowed functions.
 */
export function checkParserAst(parsed: { ast: unknown; tableList: string[] }, rules: AstRules): void {
  const statements = Array.isArray(parsed.ast) ? parsed.ast : [parsed.ast];
  if (statements.length !== 1)
    refuse(
      `The text holds ${statements.length} ${rules.dialect} statements; send exactly one read statement per query.`,
    );
  const statement = statements[0] as Node;
  const type = String(statement.type ?? '');
  if (!rules.statementTypes.has(type))
    refuse(
      `${type.toUpperCase() || 'This'} statements are not reads; only ${[...rules.statementTypes].join(', ').toUpperCase()} are allowed.`,
    );
  if (type === 'explain' && (statement.expr as Node | undefined)?.type !== 'select')
    refuse('EXPLAIN is allowed only for a SELECT.');
  for (const entry of parsed.tableList) {
    const [operation] = entry.split('::');
    if (operation !== 'select' && operation !== 'show')
      refuse(
        `The statement would ${operation?.toUpperCase()} a table (${entry.split('::').slice(1).join('.')}); only reads are allowed.`,
      );
  }
  walk(statement, rules);
}

function walk(value: unknown, rules: AstRules): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, rules);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const node = value as Node;
  const type = typeof node.type === 'string' ? node.type.toLowerCase() : '';
  if (WRITE_TYPES.has(type))
    refuse(
      `The statement contains ${type === 'assign' ? 'a variable assignment' : type === 'into' ? 'an INTO clause' : `a ${type.toUpperCase()}`}, which is not a read.`,
    );
  if (type === 'select') checkSelect(node, rules);
  if (type === 'function') checkFunction(node, rules);
  if (type === 'aggr_func' && typeof node.name === 'string' && !rules.functions.has(node.name.toUpperCase())) {
    refuse(
      `${node.name}() is not on the agent's list of read-only ${rules.dialect} functions; remove it from the query.`,
    );
  }
  for (const child of Object.values(node)) walk(child, rules);
}

function checkSelect(select: Node, rules: AstRules): void {
  const into = select.into as Node | null | undefined;
  if (into && (into.keyword || into.expr || into.type)) {
    refuse('SELECT ... INTO writes a file, a table or variables; select the rows without INTO.');
  }
  if (select.locking_read)
    refuse(`${String(select.locking_read).toUpperCase()} locks rows; remove the locking clause.`);
  const forClause = select.for as Node | null | undefined;
  if (forClause && !/^for (xml|json|browse)/i.test(String(forClause.type ?? '')))
    refuse(`A FOR ${String(forClause.type ?? '')} clause is not a read; only FOR XML and FOR JSON are allowed.`);
  for (const from of (select.from as Node[] | null | undefined) ?? []) {
    const hints = ((from.table_hint as Node | null | undefined)?.expr as Node[] | undefined) ?? [];
    for (const hint of hints) {
      // NOLOCK and friends come as literal strings; INDEX(...) and FORCESEEK(...) under their own keyword.
      const name = String(
        hint.keyword === 'literal_string' ? (hint.expr as Node | undefined)?.value : hint.keyword,
      ).toUpperCase();
      if (!rules.tableHints.has(name))
        refuse(
          `Table hint ${name || '(unknown)'} takes or holds locks; only ${[...rules.tableHints].join(', ')} are allowed.`,
        );
    }
  }
}

function checkFunction(call: Node, rules: AstRules): void {
  const name = call.name as { name?: { value?: unknown }[]; schema?: { value?: unknown } } | undefined;
  const parts = (name?.name ?? []).map((p) => String(p.value ?? '').toUpperCase());
  const last = parts[parts.length - 1] ?? '';
  if (name?.schema || parts.length > 1) {
    if (rules.methods.has(last)) return;
    refuse(
      `A qualified call (${[name?.schema?.value, ...parts].filter(Boolean).join('.')}) runs a stored or user-defined function; only built-in ${rules.dialect} functions are allowed.`,
    );
  }
  if (!rules.functions.has(last))
    refuse(`${last}() is not on the agent's list of read-only ${rules.dialect} functions; remove it from the query.`);
}
