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

  it('records a site transform (data.transform) by op kind, size and objects: never the script nor a grant', () => {
    const transform = { op: 'script', source: 'function transform(r) { return r.secret_value_in_script; }' };
    const entry = auditEntryFor({
      ...base,
      operation: 'data.transform',
      input: {
        transform,
        inputs: { left: 'leftobj1', right: 'rightobj1' },
        outputObjectId: 'outobj01',
        leftBuffer: { token: 'vbt_left_token_value' },
        outputBuffer: { token: 'vbt_output_token_value' },
      },
      output: { objectId: 'outobj01', rows: 3, columns: ['a'] },
    });
    expect(entry.statement?.text).toBe(
      `transform (script, ${JSON.stringify(transform).length} bytes) buffer object leftobj1 and rightobj1 to buffer object outobj01`,
    );
    for (const hidden of ['secret_value_in_script', 'vbt_left_token_value', 'vbt_output_token_value'])
      expect(JSON.stringify(entry)).not.toContain(hidden);
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

  it('records a table watch by names only: never the position (cursor and key values of the site rows)', () => {
    const input = {
      database: 'shop',
      table: { name: 'orders' },
      cursorColumn: 'updated_at',
      keyColumns: ['id'],
      after: ['2026-01-01 00:00:07.000', 4242],
      batchRows: 40,
      waitMs: 1000,
      notifyChannel: 'orders_new',
      objectId: 'obj12345',
      buffer: { token: 'vbt_secret_token_value' },
    };
    const batch = auditEntryFor({
      ...base,
      operation: 'table.watch',
      input,
      output: {
        rowCount: 40,
        objectId: 'obj12345',
        chunkCount: 1,
        keyColumns: ['id'],
        last: ['2026-01-01 00:00:09.000', 4282],
        woke: 'notify',
      },
    });
    expect(batch.statement?.text).toBe(
      'watch orders past cursor updated_at by id (listening on orders_new) to buffer object obj12345',
    );
    expect(batch.rows).toBe(40);
    for (const secret of ['vbt_secret_token_value', '4242', '4282', '00:00:07', '00:00:09'])
      expect(JSON.stringify(batch)).not.toContain(secret);
    const none = auditEntryFor({
      ...base,
      operation: 'table.watch',
      input,
      output: { rowCount: 0, objectId: 'obj12345', chunkCount: 0, keyColumns: ['id'], woke: 'poll' },
    });
    expect(none.statement?.text).toBe('watch orders past cursor updated_at by id (listening on orders_new)');
  });
});
