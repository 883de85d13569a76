import {
  diffSnapshots,
  sortSnapshot,
  stableJson,
  structuralSnapshot,
  type SchemaSnapshot,
  type TableSnapshot,
} from '@vansales/protocol';

const orders = (): TableSnapshot => ({
  name: 'orders',
  kind: 'table',
  columns: [
    { name: 'id', position: 1, dataType: 'integer', nullable: false, default: null, identity: 'always' },
    { name: 'customer_id', position: 2, dataType: 'integer', nullable: false, default: null },
    { name: 'note', position: 3, dataType: 'text', nullable: true, default: null },
    { name: 'total', position: 4, dataType: 'numeric(10,2)', nullable: false, default: '0' },
  ],
  primaryKey: ['id'],
  foreignKeys: [
    {
      name: 'orders_customer',
      columns: ['customer_id'],
      referencedSchema: 'app',
      referencedTable: 'customer',
      referencedColumns: ['id'],
      onUpdate: 'NO ACTION',
      onDelete: 'CASCADE',
    },
  ],
  indexes: [
    { name: 'orders_pkey', columns: ['id'], unique: true, primary: true },
    { name: 'orders_customer_idx', columns: ['customer_id'], unique: false, primary: false },
  ],
  rowEstimate: 10,
});
const customer: TableSnapshot = {
  name: 'customer',
  kind: 'table',
  columns: [{ name: 'id', position: 1, dataType: 'integer', nullable: false, default: null }],
  primaryKey: ['id'],
  foreignKeys: [],
  indexes: [],
  rowEstimate: 3,
};
const snap = (tables: TableSnapshot[], extraSchemas: SchemaSnapshot['schemas'] = []): SchemaSnapshot => ({
  dialect: 'postgres',
  database: 'd',
  schemas: [{ name: 'app', tables }, ...extraSchemas],
});

describe('diffSnapshots', () => {
  it('finds nothing between equal snapshots, and ignores row estimates', () => {
    expect(diffSnapshots(snap([orders(), customer]), snap([orders(), customer]))).toEqual([]);
    expect(
      diffSnapshots(
        snap([orders(), customer]),
        snap([
          { ...orders(), rowEstimate: 99 },
          { ...customer, rowEstimate: null },
        ]),
      ),
    ).toEqual([]);
  });

  it('reports each kind of column change', () => {
    const b = orders();
    b.columns[1] = { ...b.columns[1]!, dataType: 'bigint' };
    b.columns[2] = { ...b.columns[2]!, nullable: false, comment: 'free text' };
    b.columns[3] = { ...b.columns[3]!, default: null, generated: { expression: 'a + b', stored: true } };
    b.columns[0] = { ...b.columns[0]!, identity: 'by-default' };
    expect(diffSnapshots(snap([orders()]), snap([b]))).toEqual([
      {
        change: 'column-identity-changed',
        schema: 'app',
        table: 'orders',
        column: 'id',
        from: 'always',
        to: 'by-default',
      },
      {
        change: 'column-type-changed',
        schema: 'app',
        table: 'orders',
        column: 'customer_id',
        from: 'integer',
        to: 'bigint',
      },
      { change: 'column-nullability-changed', schema: 'app', table: 'orders', column: 'note', from: true, to: false },
      { change: 'column-comment-changed', schema: 'app', table: 'orders', column: 'note', from: null, to: 'free text' },
      { change: 'column-default-changed', schema: 'app', table: 'orders', column: 'total', from: '0', to: null },
      {
        change: 'column-generated-changed',
        schema: 'app',
        table: 'orders',
        column: 'total',
        from: null,
        to: { expression: 'a + b', stored: true },
      },
    ]);
  });

  it('tells a reorder from the position shift an added or removed column causes', () => {
    const dropped = orders();
    dropped.columns = dropped.columns
      .filter((c) => c.name !== 'customer_id')
      .map((c, i) => ({ ...c, position: i + 1 }));
    dropped.foreignKeys = [];
    dropped.indexes = dropped.indexes.filter((i) => i.name !== 'orders_customer_idx');
    expect(diffSnapshots(snap([orders()]), snap([dropped])).map((c) => c.change)).toEqual([
      'column-removed',
      'foreign-key-removed',
      'index-removed',
    ]);

    const moved = orders();
    moved.columns = [moved.columns[0]!, moved.columns[2]!, moved.columns[1]!, moved.columns[3]!].map((c, i) => ({
      ...c,
      position: i + 1,
    }));
    expect(diffSnapshots(snap([orders()]), snap([moved]))).toEqual([
      {
        change: 'columns-reordered',
        schema: 'app',
        table: 'orders',
        from: ['id', 'customer_id', 'note', 'total'],
        to: ['id', 'note', 'customer_id', 'total'],
      },
    ]);
  });

  it('reports key, foreign key and index changes', () => {
    const b = orders();
    b.primaryKey = ['id', 'customer_id'];
    b.foreignKeys = [{ ...b.foreignKeys[0]!, onDelete: 'RESTRICT' }];
    b.indexes = [
      b.indexes[0]!,
      { ...b.indexes[1]!, unique: true },
      { name: 'orders_note', columns: ['lower(note)'], unique: false, primary: false },
    ];
    const changes = diffSnapshots(snap([orders()]), snap([b]));
    expect(changes.map((c) => c.change)).toEqual([
      'primary-key-changed',
      'foreign-key-changed',
      'index-changed',
      'index-added',
    ]);
    expect(changes[0]).toEqual({
      change: 'primary-key-changed',
      schema: 'app',
      table: 'orders',
      from: ['id'],
      to: ['id', 'customer_id'],
    });
  });

  it('reports tables and schemas that appear, disappear or change kind, in a stable order', () => {
    const a = snap([orders(), customer]);
    const b = snap(
      [{ ...customer, kind: 'view', comment: 'now a view', partitionOf: 'people' }],
      [{ name: 'archive', tables: [orders()] }],
    );
    // Schemas in name order (app, archive), tables in name order within each.
    expect(diffSnapshots(a, b)).toEqual([
      { change: 'table-kind-changed', schema: 'app', table: 'customer', from: 'table', to: 'view' },
      { change: 'table-comment-changed', schema: 'app', table: 'customer', from: null, to: 'now a view' },
      { change: 'partition-of-changed', schema: 'app', table: 'customer', from: null, to: 'people' },
      { change: 'table-removed', schema: 'app', table: 'orders', kind: 'table' },
      { change: 'schema-added', schema: 'archive' },
      { change: 'table-added', schema: 'archive', table: 'orders', kind: 'table' },
    ]);
    expect(diffSnapshots(b, a).slice(-2)).toEqual([
      { change: 'schema-removed', schema: 'archive' },
      { change: 'table-removed', schema: 'archive', table: 'orders', kind: 'table' },
    ]);
  });
});

describe('snapshot canonical form', () => {
  it('sorts deterministically and writes the same JSON whatever the input order', () => {
    const a = snap([orders(), customer]);
    const b: SchemaSnapshot = {
      ...snap([
        customer,
        { ...orders(), indexes: [...orders().indexes].reverse(), columns: [...orders().columns].reverse() },
      ]),
    };
    expect(stableJson(sortSnapshot(a))).toBe(stableJson(sortSnapshot(b)));
    expect(sortSnapshot(a).schemas[0]!.tables.map((t) => t.name)).toEqual(['customer', 'orders']);
    expect(stableJson({ b: 1, a: [{ d: undefined, c: 2 }] })).toBe('{"a":[{"c":2}],"b":1}');
  });

  it('leaves row estimates out of the structure', () => {
    expect(structuralSnapshot(snap([orders()])).schemas[0]!.tables[0]!.rowEstimate).toBeNull();
    expect(stableJson(structuralSnapshot(snap([orders()])))).toBe(
      stableJson(structuralSnapshot(snap([{ ...orders(), rowEstimate: 12345 }]))),
    );
  });
});
