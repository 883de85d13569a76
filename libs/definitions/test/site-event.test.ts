import { DefinitionDocument, readsWatchedTable, siteEventRunKey, siteEventTriggerOf, siteEventWatcherId } from '../src';

describe('site-event trigger contracts', () => {
  it('derives one run key per batch range: the same range always, another range never', () => {
    const a = siteEventRunKey(0, undefined, ['2026-01-01 00:00:01', 40]);
    expect(siteEventRunKey(0, undefined, ['2026-01-01 00:00:01', 40])).toBe(a);
    const others = [
      siteEventRunKey(1, undefined, ['2026-01-01 00:00:01', 40]),
      siteEventRunKey(0, ['2026-01-01 00:00:00', 1], ['2026-01-01 00:00:01', 40]),
      siteEventRunKey(0, undefined, ['2026-01-01 00:00:01', 41]),
      siteEventRunKey(0, undefined, ['2026-01-01 00:00:01', '40']),
    ];
    expect(new Set([a, ...others]).size).toBe(5);
    // A workflow id part: the trigger, then 128 bits in hex; no value of the site's rows.
    expect(a).toMatch(/^e0-[0-9a-f]{32}$/);
  });

  it('spreads many consecutive ranges without a collision', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 20_000; i++) keys.add(siteEventRunKey(0, i ? [i - 1] : undefined, [i]));
    expect(keys.size).toBe(20_000);
  });

  it('gives the batch to the source step that reads the watched table on its connector, and to no other', () => {
    const batch = { connectorId: 'c1', database: 'shop', table: { name: 'orders' } };
    const db = (connectorId: string, database: string, name: string, schema?: string) => ({
      endpoint: { kind: 'site-db', connectorId, database },
      table: { name, ...(schema ? { schema } : {}) },
    });
    expect(readsWatchedTable(db('c1', 'shop', 'orders'), batch)).toBe(true);
    expect(readsWatchedTable(db('c2', 'shop', 'orders'), batch)).toBe(false);
    expect(readsWatchedTable(db('c1', 'other', 'orders'), batch)).toBe(false);
    expect(readsWatchedTable(db('c1', 'shop', 'customers'), batch)).toBe(false);
    expect(readsWatchedTable(db('c1', 'shop', 'orders', 'archive'), batch)).toBe(false);
    expect(
      readsWatchedTable({ endpoint: { kind: 'cloud-db', database: 'shop' }, table: { name: 'orders' } }, batch),
    ).toBe(false);
    expect(readsWatchedTable(undefined, batch)).toBe(false);
  });

  it('finds the n-th site-event trigger and names its watcher with the tenant first', () => {
    const document = DefinitionDocument.parse({
      format: 'vansales.definition/v1',
      name: 'x',
      triggers: [
        { kind: 'manual' },
        {
          kind: 'site-event',
          connectorId: 'c1',
          database: 'shop',
          table: { name: 'a' },
          cursorColumn: 'u',
          keyColumns: ['id'],
        },
        {
          kind: 'site-event',
          connectorId: 'c1',
          database: 'shop',
          table: { name: 'b' },
          cursorColumn: 'u',
          keyColumns: ['id'],
        },
      ],
      steps: [{ id: 's', kind: 'wait', duration: '1s' }],
      edges: [],
    });
    expect(siteEventTriggerOf(document, 1)?.table.name).toBe('b');
    expect(siteEventTriggerOf(document, 1)).toMatchObject({ poll: '30s', batchRows: 10_000 });
    expect(siteEventTriggerOf(document, 2)).toBeUndefined();
    expect(siteEventWatcherId('acme', 'orders', 1)).toBe('defwatch-acme-orders-1');
  });
});
