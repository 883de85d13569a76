import { DefinitionDocument, validateDefinition } from '@vansales/definitions';
import { cloudDb, defineIntegration, siteDb } from '@vansales/definitions/builder';

/** The sync step (pattern 3.4.3) as validation sees it. */
const doc = (sync: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  format: 'vansales.definition/v1',
  name: 'both ways',
  steps: [
    {
      id: 'sync',
      kind: 'sync',
      left: { endpoint: { kind: 'site-db', connectorId: 'hq', database: 'erp' }, table: { name: 'customer' } },
      right: { endpoint: { kind: 'cloud-db', database: 'warehouse' }, table: { name: 'customer' } },
      keyColumns: ['customer_id'],
      conflict: { policy: 'last-writer-wins', column: 'updated_at' },
      ...sync,
    },
  ],
  edges: [],
  ...extra,
});

describe('sync step validation', () => {
  it('accepts a sync and applies its defaults (deletes propagated, leaves of 256 rows)', async () => {
    const result = await validateDefinition(doc({}));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.document.steps[0]).toMatchObject({ kind: 'sync', deletes: true, leafRows: 256 });
  });

  it('refuses a conflict policy it does not know, and a side that is not a database', async () => {
    const result = await validateDefinition(
      doc({
        conflict: { policy: 'newest' },
        right: { endpoint: { kind: 'http', baseUrl: 'https://api.example.com' }, table: { name: 'customer' } },
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => [i.code, i.path])).toEqual(
      expect.arrayContaining([
        ['invalid-field', 'steps[0].conflict.policy'],
        ['invalid-field', 'steps[0].right.endpoint.kind'],
      ]),
    );
  });

  it('names a last-writer-wins column that the sync does not compare', async () => {
    const result = await validateDefinition(doc({ columns: ['customer_id', 'email'] }));
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([
      expect.objectContaining({
        code: 'sync-conflict-column',
        path: 'steps[0].conflict.column',
        stepId: 'sync',
        message: expect.stringMatching(/updated_at, which is not one of its columns: add it to columns/),
      }),
    ]);
  });

  it("refuses a text first key column where the site's discovered schema knows its type, naming the step", async () => {
    const types: Record<string, string> = { customer_id: 'int(10) unsigned', code: 'varchar(20)', id: 'BIGINT' };
    const asked: string[] = [];
    const context = {
      columnType: (connectorId: string, database: string, table: { name: string }, column: string) => {
        asked.push(`${connectorId}/${database}/${table.name}/${column}`);
        return types[column];
      },
    };
    expect((await validateDefinition(doc({}), context)).ok).toBe(true);
    expect(asked).toEqual(['hq/erp/customer/customer_id']);
    const text = await validateDefinition(doc({ keyColumns: ['code', 'customer_id'] }), context);
    expect(text.ok).toBe(false);
    expect(text.issues).toEqual([
      expect.objectContaining({
        code: 'sync-key-not-integer',
        path: 'steps[0].keyColumns[0]',
        stepId: 'sync',
        message: expect.stringMatching(
          /sync "sync": its first key column code is varchar\(20\) in erp.customer on connector "hq".*text keys are not supported.*put an integer key column first/,
        ),
      }),
    ]);
    // Unknown (never discovered) is left to the sync's first read, which refuses it then.
    expect((await validateDefinition(doc({ keyColumns: ['email'] }), context)).ok).toBe(true);
  });

  it('asks the site whether it lets the sync write its side, and checks the connector exists', async () => {
    const asked: string[] = [];
    const result = await validateDefinition(doc({}), {
      connectorExists: (id) => id === 'hq',
      destinationWritable: async (connectorId, database, table) => {
        asked.push(`${connectorId}/${database}/${table.name}`);
        return 'no' as const;
      },
    });
    expect(asked).toEqual(['hq/erp/customer']);
    expect(result.issues.map((i) => [i.code, i.path])).toEqual([['destination-not-writable', 'steps[0].left.table']]);
  });

  it('refuses a sync used as a dataset input (it outputs a summary)', async () => {
    const result = await validateDefinition(
      doc(
        {},
        {
          steps: [
            doc({}).steps[0],
            {
              id: 'load',
              kind: 'destination',
              db: {
                endpoint: { kind: 'cloud-db', database: 'warehouse' },
                table: { name: 'x' },
                keyColumns: ['id'],
              },
            },
          ],
          edges: [{ from: 'sync', to: 'load' }],
        },
      ),
    );
    expect(result.issues.map((i) => i.code)).toContain('type-mismatch');
  });
});

describe('the code-first builder', () => {
  it('builds the same sync step as the drawn document', () => {
    const built = defineIntegration('both ways')
      .sync('sync', {
        left: { endpoint: siteDb('hq', 'erp'), table: { name: 'customer' } },
        right: { endpoint: cloudDb('warehouse'), table: { name: 'customer' } },
        keyColumns: ['customer_id'],
        conflict: { policy: 'last-writer-wins', column: 'updated_at' },
      })
      .build();
    expect(built.steps).toEqual(DefinitionDocument.parse(doc({})).steps);
  });
});
