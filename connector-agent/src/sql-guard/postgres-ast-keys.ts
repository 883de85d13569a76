/**
 * Every node type and field name libpg-query may produce for a read-only query: the union of what
 * SELECTs, CTEs, joins, window and JSON/XML expressions produce. The walker refuses any other key, so
 * the tree of a write (InsertStmt, ...), of SELECT INTO (intoClause) or of a locking read
 * (lockingClause) never passes, and neither does a construct this list has not been reviewed for.
 */
const NODE_TYPES = [
  'A_ArrayExpr', 'A_Const', 'A_Expr', 'A_Indices', 'A_Indirection', 'A_Star', 'Alias', 'BitString', 'Boolean', 'BoolExpr', 'BooleanTest',
  'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'CollateClause', 'ColumnDef', 'ColumnRef', 'CommonTableExpr', 'CTECycleClause', 'CTESearchClause', 'Float',
  'FuncCall', 'GroupingFunc', 'GroupingSet', 'Integer', 'JoinExpr', 'JsonAggConstructor', 'JsonArgument', 'JsonArrayAgg',
  'JsonArrayConstructor', 'JsonArrayQueryConstructor', 'JsonBehavior', 'JsonFormat', 'JsonFuncExpr', 'JsonIsPredicate', 'JsonKeyValue',
  'JsonObjectAgg', 'JsonObjectConstructor', 'JsonOutput', 'JsonParseExpr', 'JsonReturning', 'JsonScalarExpr', 'JsonSerializeExpr',
  'JsonTable', 'JsonTableColumn', 'JsonTablePathSpec', 'JsonValueExpr', 'List', 'MinMaxExpr', 'NamedArgExpr', 'NullTest', 'ParamRef',
  'RangeFunction', 'RangeSubselect', 'RangeTableFunc', 'RangeTableFuncCol', 'RangeTableSample', 'RangeVar', 'ResTarget', 'RowExpr',
  'SelectStmt', 'SortBy', 'SQLValueFunction', 'String', 'SubLink', 'TypeCast', 'TypeName', 'WindowDef', 'WithClause', 'XmlExpr',
  'XmlSerialize',
];

const FIELDS = [
  // SelectStmt (not intoClause, not lockingClause)
  'distinctClause', 'targetList', 'fromClause', 'whereClause', 'groupClause', 'groupDistinct', 'havingClause', 'windowClause',
  'valuesLists', 'sortClause', 'limitOffset', 'limitCount', 'limitOption', 'withClause', 'op', 'all', 'larg', 'rarg',
  // CTEs
  'ctes', 'recursive', 'ctename', 'aliascolnames', 'ctematerialized', 'ctequery', 'search_clause', 'search_col_list',
  'search_breadth_first', 'search_seq_column', 'cycle_clause', 'cycle_col_list', 'cycle_mark_column', 'cycle_mark_value',
  'cycle_mark_default', 'cycle_path_column',
  // ranges and joins
  'relname', 'schemaname', 'catalogname', 'inh', 'relpersistence', 'alias', 'aliasname', 'colnames', 'jointype', 'isNatural',
  'usingClause', 'join_using_alias', 'quals', 'lateral', 'subquery', 'ordinality', 'is_rowsfrom', 'functions', 'coldeflist', 'relation',
  'is_local', 'method', 'repeatable', 'docexpr', 'rowexpr', 'namespaces', 'colname', 'for_ordinality', 'is_not_null', 'colexpr', 'coldefexpr',
  // expressions
  'val', 'name', 'indirection', 'fields', 'number', 'location', 'isnull', 'ival', 'fval', 'boolval', 'sval', 'bsval', 'kind', 'lexpr',
  'rexpr', 'boolop', 'args', 'arg', 'subLinkType', 'subLinkId', 'testexpr', 'operName', 'subselect', 'defresult', 'expr', 'result',
  'nulltesttype', 'argisrow', 'booltesttype', 'elements', 'row_format', 'is_slice', 'lidx', 'uidx', 'collname', 'typeName', 'names',
  'typemod', 'typmods', 'arrayBounds', 'setof', 'pct_type', 'typmod', 'type', 'argnumber', 'content', 'refs',
  // function calls, aggregates, windows
  'funcname', 'agg_order', 'agg_filter', 'agg_within_group', 'agg_star', 'agg_distinct', 'func_variadic', 'funcformat', 'over', 'refname',
  'partitionClause', 'orderClause', 'frameOptions', 'startOffset', 'endOffset', 'node', 'sortby_dir', 'sortby_nulls', 'useOp',
  // XML and JSON expressions
  'named_args', 'arg_names', 'xmloption', 'indent', 'absent_on_null', 'unique', 'constructor', 'exprs', 'output', 'returning', 'format',
  'format_type', 'encoding', 'typid', 'raw_expr', 'formatted_expr', 'key', 'value', 'item_type', 'unique_keys', 'column_name',
  'context_item', 'pathspec', 'passing', 'on_empty', 'on_error', 'wrapper', 'quotes', 'btype', 'coerce', 'string', 'name_location',
  'columns', 'coltype', 'query',
  // List nodes (row constructors, IN lists, ROWS FROM)
  'items',
];

export const POSTGRES_AST_KEYS: ReadonlySet<string> = new Set([...NODE_TYPES, ...FIELDS]);
