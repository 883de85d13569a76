import {
  stableJson,
  compareNames,
  type ColumnSnapshot,
  type ForeignKeySnapshot,
  type IndexSnapshot,
  type SchemaSnapshot,
  type TableKind,
  type TableSnapshot,
} from './schema-snapshot';

type At = { schema: string; table: string };
type AtColumn = At & { column: string };

/** One difference between two snapshots. Row estimates are data, not structure: never reported. */
export type SchemaChange =
  | { change: 'schema-added' | 'schema-removed'; schema: string }
  | (At & { change: 'table-added' | 'table-removed'; kind: TableKind })
  | (At & { change: 'table-kind-changed'; from: TableKind; to: TableKind })
  | (At & { change: 'table-comment-changed'; from: string | null; to: string | null })
  | (At & { change: 'partition-of-changed'; from: string | null; to: string | null })
  | (AtColumn & { change: 'column-added'; definition: ColumnSnapshot })
  | (AtColumn & { change: 'column-removed'; definition: ColumnSnapshot })
  | (AtColumn & { change: 'column-type-changed'; from: string; to: string })
  | (AtColumn & { change: 'column-nullability-changed'; from: boolean; to: boolean })
  | (AtColumn & { change: 'column-default-changed' | 'column-comment-changed'; from: string | null; to: string | null })
  | (AtColumn & {
      change: 'column-generated-changed';
      from: ColumnSnapshot['generated'] | null;
      to: ColumnSnapshot['generated'] | null;
    })
  | (AtColumn & {
      change: 'column-identity-changed';
      from: ColumnSnapshot['identity'] | null;
      to: ColumnSnapshot['identity'] | null;
    })
  | (At & { change: 'columns-reordered'; from: string[]; to: string[] })
  | (At & { change: 'primary-key-changed'; from: string[] | null; to: string[] | null })
  | (At & { change: 'foreign-key-added' | 'foreign-key-removed'; foreignKey: ForeignKeySnapshot })
  | (At & { change: 'foreign-key-changed'; name: string; from: ForeignKeySnapshot; to: ForeignKeySnapshot })
  | (At & { change: 'index-added' | 'index-removed'; index: IndexSnapshot })
  | (At & { change: 'index-changed'; name: string; from: IndexSnapshot; to: IndexSnapshot });

export type SchemaChangeKind = SchemaChange['change'];

const same = (a: unknown, b: unknown): boolean => stableJson(a) === stableJson(b);

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.name, i]));
}

function unionNames(a: Map<string, unknown>, b: Map<string, unknown>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].sort(compareNames);
}

/**
 * What changed from snapshot `a` to snapshot `b`, in a stable order: by schema, table, then
 * table-level, column, key and index changes. A table that appears or disappears is one change,
 * not one per column. Pure: no I/O, safe in workflow code.
 */
export function diffSnapshots(a: SchemaSnapshot, b: SchemaSnapshot): SchemaChange[] {
  const out: SchemaChange[] = [];
  const schemasA = byName(a.schemas);
  const schemasB = byName(b.schemas);
  for (const schema of unionNames(schemasA, schemasB)) {
    const sa = schemasA.get(schema);
    const sb = schemasB.get(schema);
    if (!sa) out.push({ change: 'schema-added', schema });
    if (!sb) out.push({ change: 'schema-removed', schema });
    const tablesA = byName(sa?.tables ?? []);
    const tablesB = byName(sb?.tables ?? []);
    for (const table of unionNames(tablesA, tablesB)) {
      const ta = tablesA.get(table);
      const tb = tablesB.get(table);
      if (!ta && tb) out.push({ change: 'table-added', schema, table, kind: tb.kind });
      else if (ta && !tb) out.push({ change: 'table-removed', schema, table, kind: ta.kind });
      else if (ta && tb) diffTable({ schema, table }, ta, tb, out);
    }
  }
  return out;
}

function diffTable(at: At, a: TableSnapshot, b: TableSnapshot, out: SchemaChange[]): void {
  if (a.kind !== b.kind) out.push({ ...at, change: 'table-kind-changed', from: a.kind, to: b.kind });
  if ((a.comment ?? null) !== (b.comment ?? null))
    out.push({ ...at, change: 'table-comment-changed', from: a.comment ?? null, to: b.comment ?? null });
  if ((a.partitionOf ?? null) !== (b.partitionOf ?? null))
    out.push({ ...at, change: 'partition-of-changed', from: a.partitionOf ?? null, to: b.partitionOf ?? null });

  const colsA = byName(a.columns);
  const colsB = byName(b.columns);
  for (const col of [...a.columns].sort((x, y) => x.position - y.position)) {
    if (!colsB.has(col.name)) out.push({ ...at, column: col.name, change: 'column-removed', definition: col });
  }
  for (const cb of [...b.columns].sort((x, y) => x.position - y.position)) {
    const ca = colsA.get(cb.name);
    const c = { ...at, column: cb.name };
    if (!ca) {
      out.push({ ...c, change: 'column-added', definition: cb });
      continue;
    }
    if (ca.dataType !== cb.dataType)
      out.push({ ...c, change: 'column-type-changed', from: ca.dataType, to: cb.dataType });
    if (ca.nullable !== cb.nullable)
      out.push({ ...c, change: 'column-nullability-changed', from: ca.nullable, to: cb.nullable });
    if (ca.default !== cb.default)
      out.push({ ...c, change: 'column-default-changed', from: ca.default, to: cb.default });
    if ((ca.comment ?? null) !== (cb.comment ?? null))
      out.push({ ...c, change: 'column-comment-changed', from: ca.comment ?? null, to: cb.comment ?? null });
    if (!same(ca.generated ?? null, cb.generated ?? null))
      out.push({ ...c, change: 'column-generated-changed', from: ca.generated ?? null, to: cb.generated ?? null });
    if ((ca.identity ?? null) !== (cb.identity ?? null))
      out.push({ ...c, change: 'column-identity-changed', from: ca.identity ?? null, to: cb.identity ?? null });
  }
  // Adding or dropping a column shifts positions; only a change in the order of the columns both sides have is a reorder.
  const orderA = [...a.columns]
    .sort((x, y) => x.position - y.position)
    .map((c) => c.name)
    .filter((n) => colsB.has(n));
  const orderB = [...b.columns]
    .sort((x, y) => x.position - y.position)
    .map((c) => c.name)
    .filter((n) => colsA.has(n));
  if (!same(orderA, orderB)) out.push({ ...at, change: 'columns-reordered', from: orderA, to: orderB });

  if (!same(a.primaryKey, b.primaryKey))
    out.push({ ...at, change: 'primary-key-changed', from: a.primaryKey, to: b.primaryKey });

  const fksA = byName(a.foreignKeys);
  const fksB = byName(b.foreignKeys);
  for (const name of unionNames(fksA, fksB)) {
    const fa = fksA.get(name);
    const fb = fksB.get(name);
    if (!fa && fb) out.push({ ...at, change: 'foreign-key-added', foreignKey: fb });
    else if (fa && !fb) out.push({ ...at, change: 'foreign-key-removed', foreignKey: fa });
    else if (fa && fb && !same(fa, fb)) out.push({ ...at, change: 'foreign-key-changed', name, from: fa, to: fb });
  }

  const ixA = byName(a.indexes);
  const ixB = byName(b.indexes);
  for (const name of unionNames(ixA, ixB)) {
    const ia = ixA.get(name);
    const ib = ixB.get(name);
    if (!ia && ib) out.push({ ...at, change: 'index-added', index: ib });
    else if (ia && !ib) out.push({ ...at, change: 'index-removed', index: ia });
    else if (ia && ib && !same(ia, ib)) out.push({ ...at, change: 'index-changed', name, from: ia, to: ib });
  }
}
