import { validateDefinitionStructure } from '@vansales/definitions';
import { cloudDb, DefinitionBuildError, defineIntegration, siteDb } from '@vansales/definitions/builder';
import { definitionHash } from '@vansales/definitions/hash';
import { ordersToWarehouse } from '../examples/orders-to-warehouse';

describe('the code-first builder', () => {
  it('builds the example into a document the validator accepts, edges in reading order', () => {
    const document = ordersToWarehouse('hq').build();
    expect(validateDefinitionStructure(document)).toMatchObject({ ok: true, issues: [] });
    expect(document.triggers.map((t) => t.kind)).toEqual(['schedule', 'api']);
    expect(document.steps.map((s) => `${s.kind}:${s.id}`)).toEqual([
      'source:orders',
      'source:customers',
      'transform:with-customer',
      'transform:shape',
      'branch:big-batch',
      'wait-for-signal:approval',
      'destination:load-approved',
      'destination:load',
    ]);
    expect(document.edges).toEqual([
      { from: 'orders', to: 'with-customer', port: 'left' },
      { from: 'customers', to: 'with-customer', port: 'right' },
      { from: 'with-customer', to: 'shape' },
      { from: 'shape', to: 'big-batch' },
      { from: 'big-batch', to: 'approval', when: 'then' },
      { from: 'approval', to: 'load-approved' },
      { from: 'big-batch', to: 'load', when: 'else' },
    ]);
  });

  it('gives the same document, and hash, as the one drawn by hand', () => {
    const drawn = {
      format: 'vansales.definition/v1',
      name: 'films',
      steps: [
        {
          id: 'extract',
          kind: 'source',
          db: { endpoint: { kind: 'site-db', connectorId: 'hq', database: 'sakila' }, table: { name: 'film' } },
        },
        { id: 'shape', kind: 'transform', transform: { op: 'filter', where: 'rating = "G"' } },
        {
          id: 'load',
          kind: 'destination',
          db: { endpoint: { kind: 'cloud-db', database: 'wh' }, table: { name: 'film' }, keyColumns: ['film_id'] },
        },
      ],
      edges: [
        { from: 'extract', to: 'shape' },
        { from: 'shape', to: 'load' },
      ],
    };
    const coded = defineIntegration('films')
      .source('extract', { db: { endpoint: siteDb('hq', 'sakila'), table: { name: 'film' } } })
      .transform('shape', { op: 'filter', where: 'rating = "G"' })
      .to('load', { db: { endpoint: cloudDb('wh'), table: { name: 'film' }, keyColumns: ['film_id'] } })
      .build();
    expect(definitionHash(coded)).toBe(definitionHash(drawn));
  });

  it('builds parallel fan-out, merge, for-each bodies and after()', () => {
    const document = defineIntegration('fan')
      .source('extract', { db: { endpoint: cloudDb('shop'), table: { name: 'orders' } } })
      .parallel(
        'fan-out',
        (line) => line.to('a', { db: { endpoint: cloudDb('a'), table: { name: 'o' }, keyColumns: ['id'] } }),
        (line) => line.transform('b', { op: 'filter', where: 'true' }),
      )
      .source('other', { db: { endpoint: cloudDb('shop'), table: { name: 'returns' } } })
      .merge('both', ['b', 'other'], { dedupeKey: ['id'] })
      .forEach('each', { over: 'batches', batchSize: 500 }, (body) =>
        body
          .transform('shape', { op: 'coerce', types: { id: 'integer' } })
          .to('write', { db: { endpoint: cloudDb('wh'), table: { name: 'o' }, keyColumns: ['id'] } }),
      )
      .after('extract')
      .wait('later', { duration: '1h' })
      .build();
    expect(document.edges).toEqual([
      { from: 'extract', to: 'fan-out' },
      { from: 'fan-out', to: 'a' },
      { from: 'fan-out', to: 'b' },
      { from: 'b', to: 'both' },
      { from: 'other', to: 'both' },
      { from: 'both', to: 'each' },
      { from: 'extract', to: 'later' },
    ]);
    const each = document.steps.find((s) => s.id === 'each');
    expect(each).toMatchObject({ kind: 'for-each', batchSize: 500, body: { edges: [{ from: 'shape', to: 'write' }] } });
  });

  it('throws every issue at once when the document does not validate', () => {
    const build = () =>
      defineIntegration('bad')
        .source('extract', { db: { endpoint: siteDb('hq', 'erp') } })
        .to('load', { db: { endpoint: cloudDb('wh'), table: { name: 't' }, keyColumns: ['id'] } })
        .transform('after-load', { op: 'filter', where: 'true' })
        .after('ghost')
        .wait('pause', {})
        .build();
    expect(build).toThrow(DefinitionBuildError);
    try {
      build();
    } catch (err) {
      const codes = (err as DefinitionBuildError).issues.map((i) => i.code);
      expect(codes).toEqual(expect.arrayContaining(['table-or-sql', 'type-mismatch', 'dangling-edge', 'wait-one-of']));
      expect((err as Error).message).toContain('steps[0].db:');
    }
  });
});
