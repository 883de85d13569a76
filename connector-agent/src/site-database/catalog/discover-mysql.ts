import type { CatalogQuery, DataConnection } from '@vansales/dataflow';
import type {
  ColumnSnapshot,
  IndexSnapshot,
  ReferentialAction,
  SchemaSnapshot,
  TableKind,
  TableSnapshot,
} from '@vansales/protocol';
import { assembleSnapshot, type DiscoverOptions, type RawTable } from './assemble';

/** Never discovered, even when asked for. */
const SYSTEM_SCHEMAS = new Set(['mysql', 'performance_schema', 'sys', 'information_schema']);
const ACTIONS = new Set<string>(['NO ACTION', 'RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT']);
/** Types whose literal defaults MySQL prints bare and MariaDB prints bare too. */
const NUMERIC_TYPES = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
  'decimal',
  'numeric',
  'float',
  'double',
  'real',
  'year',
  'bit',
  'bool',
  'boolean',
]);

type Row = Record<string, unknown>;

const str = (v: unknown): string | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);

/**
 * information_schema, one statement per kind of object over every table of the schemas at once
 * (joins between information_schema tables are left to this code: MariaDB materialises each one
 * and would compare every row with every row). One connection, one READ ONLY transaction.
 */
export async function discoverMysql(
  conn: DataConnection,
  database: string,
  options: DiscoverOptions = {},
): Promise<SchemaSnapshot> {
  const wanted = [...new Set(options.schemas ?? [database])].filter((s) => !SYSTEM_SCHEMAS.has(s.toLowerCase()));
  return conn.inspect(
    async (query) => {
      // MySQL 8 caches TABLE_ROWS for a day by default; MariaDB has no such setting.
      await query('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
      const [head] = await query<Row>('SELECT VERSION() AS version');
      const mariadb = /mariadb/i.test(str(head?.version) ?? '');
      return wanted.length === 0 ? assembleSnapshot('mysql', database, [], []) : read(query, database, wanted, mariadb);
    },
    { signal: options.signal },
  );
}

async function read(
  query: CatalogQuery,
  database: string,
  schemas: string[],
  mariadb: boolean,
): Promise<SchemaSnapshot> {
  const p = [schemas];
  const schemaRows = await query<Row>(
    'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)',
    p,
  );
  const tableRows = await query<Row>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_TYPE AS type, TABLE_ROWS AS est, TABLE_COMMENT AS comment, CREATE_OPTIONS AS opts
       FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')`,
    p,
  );
  const columnRows = await query<Row>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS name, ORDINAL_POSITION AS pos, COLUMN_TYPE AS type, DATA_TYPE AS base,
            IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def, EXTRA AS extra, GENERATION_EXPRESSION AS gen, COLUMN_COMMENT AS comment
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?)`,
    p,
  );
  // SELECT *: MySQL 8 adds EXPRESSION (functional key parts), MariaDB has no such column.
  const indexRows = await query<Row>('SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN (?)', p);
  const fkColumnRows = await query<Row>(
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, CONSTRAINT_NAME AS name, COLUMN_NAME AS col, ORDINAL_POSITION AS pos,
            REFERENCED_TABLE_SCHEMA AS rs, REFERENCED_TABLE_NAME AS rt, REFERENCED_COLUMN_NAME AS rc
       FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA IN (?) AND REFERENCED_TABLE_NAME IS NOT NULL`,
    p,
  );
  const fkRuleRows = await query<Row>(
    `SELECT CONSTRAINT_SCHEMA AS s, TABLE_NAME AS t, CONSTRAINT_NAME AS name, UPDATE_RULE AS upd, DELETE_RULE AS del
       FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA IN (?)`,
    p,
  );

  const key = (s: unknown, t: unknown) => `${str(s)}\u0000${str(t)}`;
  const tables = new Map<string, RawTable>();
  for (const r of tableRows) {
    const view = r.type === 'VIEW';
    const kind: TableKind = view ? 'view' : /\bpartitioned\b/i.test(str(r.opts) ?? '') ? 'partitioned-table' : 'table';
    const comment = str(r.comment);
    const table: TableSnapshot = {
      name: str(r.t)!,
      kind,
      // A view's TABLE_COMMENT is the word VIEW, not a comment.
      ...(comment && !view ? { comment } : {}),
      columns: [],
      primaryKey: null,
      foreignKeys: [],
      indexes: [],
      rowEstimate: view || r.est === null ? null : Number(r.est),
    };
    tables.set(key(r.s, r.t), { schema: str(r.s)!, table });
  }

  for (const r of columnRows) {
    const t = tables.get(key(r.s, r.t));
    if (!t) continue;
    const extra = (str(r.extra) ?? '').toLowerCase();
    const generatedKind = /\b(virtual|stored|persistent)\b/.exec(extra)?.[1];
    const generation = str(r.gen);
    const isGenerated = Boolean(generatedKind && /generated|persistent/.test(extra) && generation);
    const comment = str(r.comment);
    const column: ColumnSnapshot = {
      name: str(r.name)!,
      position: Number(r.pos),
      dataType: str(r.type)!,
      nullable: r.nullable === 'YES',
      default: isGenerated ? null : normaliseDefault(str(r.def), str(r.base) ?? '', extra, mariadb),
      ...(comment ? { comment } : {}),
      ...(isGenerated ? { generated: { expression: generation!, stored: generatedKind !== 'virtual' } } : {}),
      ...(extra.includes('auto_increment') ? { identity: 'by-default' as const } : {}),
    };
    t.table.columns.push(column);
  }

  const indexes = new Map<string, { table: RawTable; index: IndexSnapshot; parts: [number, string][] }>();
  for (const r of indexRows) {
    const t = tables.get(key(r.TABLE_SCHEMA, r.TABLE_NAME));
    if (!t) continue;
    const name = str(r.INDEX_NAME)!;
    const id = `${key(r.TABLE_SCHEMA, r.TABLE_NAME)}\u0000${name}`;
    let entry = indexes.get(id);
    if (!entry) {
      const primary = name === 'PRIMARY';
      entry = {
        table: t,
        index: {
          name,
          columns: [],
          unique: Number(r.NON_UNIQUE) === 0,
          primary,
          method: str(r.INDEX_TYPE) ?? undefined,
        },
        parts: [],
      };
      indexes.set(id, entry);
    }
    const column = str(r.COLUMN_NAME);
    const expression = str(r.EXPRESSION);
    const subPart = r.SUB_PART === null || r.SUB_PART === undefined ? null : Number(r.SUB_PART);
    const part = column !== null ? (subPart ? `${column}(${subPart})` : column) : (expression ?? '');
    entry.parts.push([Number(r.SEQ_IN_INDEX), part]);
  }
  for (const { table, index, parts } of indexes.values()) {
    index.columns = parts.sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    if (index.method === undefined) delete index.method;
    table.table.indexes.push(index);
    if (index.primary) table.table.primaryKey = [...index.columns];
  }

  const rules = new Map(fkRuleRows.map((r) => [`${key(r.s, r.t)}\u0000${str(r.name)}`, r]));
  const fks = new Map<
    string,
    { table: RawTable; name: string; rs: string; rt: string; parts: [number, string, string][] }
  >();
  for (const r of fkColumnRows) {
    const t = tables.get(key(r.s, r.t));
    if (!t) continue;
    const id = `${key(r.s, r.t)}\u0000${str(r.name)}`;
    let entry = fks.get(id);
    if (!entry) {
      entry = { table: t, name: str(r.name)!, rs: str(r.rs)!, rt: str(r.rt)!, parts: [] };
      fks.set(id, entry);
    }
    entry.parts.push([Number(r.pos), str(r.col)!, str(r.rc)!]);
  }
  for (const [id, fk] of fks) {
    const rule = rules.get(id);
    const parts = fk.parts.sort((a, b) => a[0] - b[0]);
    fk.table.table.foreignKeys.push({
      name: fk.name,
      columns: parts.map(([, c]) => c),
      referencedSchema: fk.rs,
      referencedTable: fk.rt,
      referencedColumns: parts.map(([, , rc]) => rc),
      onUpdate: action(rule?.upd),
      onDelete: action(rule?.del),
    });
  }

  // A dropped column leaves no gap in ORDINAL_POSITION, but make positions dense regardless.
  for (const { table } of tables.values()) {
    table.columns.sort((a, b) => a.position - b.position).forEach((c, i) => (c.position = i + 1));
  }
  return assembleSnapshot(
    'mysql',
    database,
    schemaRows.map((r) => str(r.name)!),
    [...tables.values()],
  );
}

function action(v: unknown): ReferentialAction {
  const s = (str(v) ?? '').toUpperCase();
  return ACTIONS.has(s) ? (s as ReferentialAction) : 'NO ACTION';
}

/**
 * MariaDB (10.2.7+) prints a default as SQL: NULL, a number, a quoted literal, or an expression
 * such as current_timestamp(). MySQL prints the bare value and marks expressions DEFAULT_GENERATED;
 * quote its literals so both read the same. A DEFAULT NULL is no default at all: null.
 */
function normaliseDefault(def: string | null, baseType: string, extra: string, mariadb: boolean): string | null {
  if (def === null) return null;
  if (mariadb) return def === 'NULL' ? null : def;
  if (
    extra.includes('default_generated') ||
    NUMERIC_TYPES.has(baseType.toLowerCase()) ||
    /^CURRENT_TIMESTAMP/i.test(def)
  )
    return def;
  return `'${def.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
