import { auditEntryFor } from '../src/audit-entry';

const base = {
  tenantId: 'acme',
  connectorId: 'c1',
  actor: { workflowId: 'w', runId: 'r', activityId: '1', attempt: 1 },
  durationMs: 12,
};

describe('audit entries of data operations', () => {
  it('records a table sent to a site API (http.write-table): table, cursor column and API, no value', () => {
    const sent = auditEntryFor({
      ...base,
      operation: 'http.write-table',
      input: {
        source: {
          database: 'erp',
          table: { schema: 'sales', name: 'orders' },
          incremental: { column: 'updated_at', after: '2031-05-06' },
        },
        api: 'warehouse',
        method: 'PUT',
        path: '/orders?token=abc',
        body: '{ "secret": "value-in-expression" }',
      },
      output: { rowCount: 12, requests: 12, records: 12, retried: 0 },
    });
    expect(sent.statement?.text).toBe('http PUT warehouse /orders from erp.sales.orders past cursor updated_at');
    expect(sent.rows).toBe(12);
    for (const hidden of ['2031-05-06', 'token=abc', 'value-in-expression'])
      expect(JSON.stringify(sent)).not.toContain(hidden);
  });

  it('records what an extract, a load and a transfer did, without values or grants', () => {
    const extract = auditEntryFor({
      ...base,
      operation: 'data.extract',
      input: {
        database: 'erp',
        source: { table: { name: 'customer' } },
        incremental: { column: 'updated_at', after: '2024-01-01' },
        objectId: 'obj12345',
        buffer: { token: 'vbt_secret_token_value' },
      },
      output: { objectId: 'obj12345', rowCount: 599, chunkCount: 1, keyColumns: ['customer_id'] },
    });
    expect(extract.statement?.text).toBe('extract customer past cursor updated_at to buffer object obj12345');
    expect(extract.statement?.database).toBe('erp');
    expect(extract.rows).toBe(599);
    expect(JSON.stringify(extract)).not.toContain('vbt_secret_token_value');
    expect(JSON.stringify(extract)).not.toContain('2024-01-01');
    // With the agent's plan in the result, the record names the columns, keys and cursor it used.
    const planned = auditEntryFor({
      ...base,
      operation: 'data.extract',
      input: {
        database: 'erp',
        source: { table: { name: 'customer' } },
        incremental: { column: 'updated_at' },
        objectId: 'o1',
      },
      output: {
        objectId: 'o1',
        rowCount: 2,
        chunkCount: 1,
        keyColumns: ['id'],
        columns: ['id', 'email', 'updated_at'],
      },
    });
    expect(planned.statement?.text).toBe(
      'extract customer columns id, email, updated_at by key id past cursor updated_at to buffer object o1',
    );

    const query = auditEntryFor({
      ...base,
      operation: 'data.extract',
      input: { database: 'erp', source: { sql: 'SELECT id FROM t' }, objectId: 'obj12345' },
      errorType: 'SqlRefused',
    });
    expect(query.statement?.text).toBe('SELECT id FROM t');
    expect(query.outcome).toBe('refused');

    const load = auditEntryFor({
      ...base,
      operation: 'data.load',
      input: {
        database: 'dw',
        table: { schema: 'public', name: 'customer' },
        keyColumns: ['customer_id'],
        objectId: 'obj12345',
      },
      output: { rowCount: 599, chunkCount: 1, created: true },
    });
    expect(load.statement?.text).toBe('load buffer object obj12345 into public.customer (upsert by customer_id)');
    expect(load.rows).toBe(599);

    const transfer = auditEntryFor({
      ...base,
      operation: 'data.transfer',
      input: {
        source: { database: 'erp', table: { name: 'film' } },
        destination: { database: 'dw', table: { name: 'film' } },
        mode: 'append',
      },
      output: { rowCount: 1000, created: true, keyColumns: ['film_id'] },
    });
    expect(transfer.statement?.text).toBe('transfer erp.film to dw.film (append)');
    expect(transfer.rows).toBe(1000);
  });
});
