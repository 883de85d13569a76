/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit parsed documents in place, field by field */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalJson,
  cronProblem,
  DefinitionDocument,
  definitionJsonSchema,
  diffDefinitions,
  type DefinitionDocumentInput,
} from '@vansales/definitions';
import { definitionHash } from '@vansales/definitions/hash';
import { definitionJsonSchemaFile } from '../src/json-schema';

const base: DefinitionDocumentInput = {
  format: 'vansales.definition/v1',
  name: 'orders',
  description: 'orders to the warehouse',
  steps: [
    {
      id: 'extract',
      kind: 'source',
      db: { endpoint: { kind: 'cloud-db', database: 'shop' }, table: { name: 'orders' } },
    },
    { id: 'shape', kind: 'transform', transform: { op: 'map', fields: { id: 'order_id', total: 'amount * 100' } } },
    {
      id: 'load',
      kind: 'destination',
      db: { endpoint: { kind: 'cloud-db', database: 'warehouse' }, table: { name: 'orders' }, keyColumns: ['id'] },
    },
  ],
  edges: [
    { from: 'extract', to: 'shape' },
    { from: 'shape', to: 'load' },
  ],
};
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const parse = (d: DefinitionDocumentInput) => DefinitionDocument.parse(d);

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and prints numbers as ECMAScript does (the RFC examples)', () => {
    // RFC 8785 section 3.2.3's sorting example.
    const keys = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(Object.values(JSON.parse(canonicalJson(keys)) as Record<string, string>)).toEqual([
      'One', // JSON.parse puts integer-like keys first; the text order is checked below
      'Carriage Return',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(canonicalJson(keys).indexOf('Carriage Return')).toBeLessThan(canonicalJson(keys).indexOf('One'));
    expect(canonicalJson({ numbers: [Number('333333333.33333329'), 1e30, 4.5, 2e-3, 0.000001, 1e-7, -0, 1e21] })).toBe(
      '{"numbers":[333333333.3333333,1e+30,4.5,0.002,0.000001,1e-7,0,1e+21]}',
    );
    expect(canonicalJson({ literals: [null, true, false], string: '\u20ac$\u000f\nA\'B"\\\\"/' })).toBe(
      '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('leaves out undefined members and refuses what JSON cannot say', () => {
    expect(canonicalJson({ b: 1, a: undefined })).toBe('{"b":1}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/no form/);
    expect(() => canonicalJson({ n: Infinity })).toThrow(/no form/);
  });
});

describe('definitionHash', () => {
  const hash = definitionHash(base);

  it('is the same for the same document written with other key order, whitespace or spelled-out defaults', () => {
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const reordered = JSON.parse(
      JSON.stringify(
        { edges: base.edges, steps: base.steps, description: base.description, name: base.name, format: base.format },
        null,
        7,
      ),
    ) as unknown;
    expect(definitionHash(reordered)).toBe(hash);
    const withDefaults = clone(base) as DefinitionDocumentInput & { steps: Record<string, unknown>[] };
    withDefaults.triggers = [{ kind: 'manual' }];
    withDefaults.steps[1]!.placement = 'auto';
    (withDefaults.steps[2]!.db as Record<string, unknown>).createIfMissing = false;
    expect(definitionHash(withDefaults)).toBe(hash);
    expect(definitionHash(parse(base))).toBe(hash);
  });

  it.each<[string, (d: DefinitionDocumentInput & { steps: any[] }) => void]>([
    ['name', (d) => (d.name = 'orders!')],
    ['description', (d) => delete d.description],
    ['a step field', (d) => (d.steps[2].db.keyColumns = ['id', 'line'])],
    ['an expression', (d) => (d.steps[1].transform.fields.total = 'amount * 1000')],
    ['the order of steps', (d) => d.steps.reverse()],
    ['an edge', (d) => (d.edges[1]!.to = 'extract')],
    ['a trigger', (d) => (d.triggers = [{ kind: 'api' }])],
    ['a default changed', (d) => (d.steps[1].placement = 'cloud')],
  ])('changes with any semantic change: %s', (_what, change) => {
    const changed = clone(base) as DefinitionDocumentInput & { steps: any[] };
    change(changed);
    expect(definitionHash(changed)).not.toBe(hash);
  });
});

describe('diffDefinitions', () => {
  it('reports steps added, removed and changed (with the paths of their changed fields), edges, triggers, name', () => {
    const next = clone(base) as DefinitionDocumentInput & { steps: any[] };
    next.name = 'orders v2';
    next.triggers = [{ kind: 'schedule', every: '15m', catchupWindow: '1h', overlap: 'skip' }];
    next.steps[1].transform.fields.total = 'amount';
    next.steps[1].onError = { continueOnError: true };
    next.steps[2].db.table = { schema: 'dw', name: 'orders' };
    next.steps = [next.steps[2], next.steps[1], { id: 'audit', kind: 'wait', duration: '1m' }];
    next.edges = [
      { from: 'shape', to: 'load' },
      { from: 'load', to: 'audit' },
    ];
    const diff = diffDefinitions(parse(base), parse(next));
    expect(diff).toEqual({
      identical: false,
      name: { from: 'orders', to: 'orders v2' },
      steps: {
        added: ['audit'],
        removed: ['extract'],
        changed: [
          { stepId: 'load', kind: 'destination', paths: ['db.table.schema'] },
          { stepId: 'shape', kind: 'transform', paths: ['onError', 'transform.fields.total'] },
        ],
      },
      edges: { added: [{ from: 'load', to: 'audit' }], removed: [{ from: 'extract', to: 'shape' }] },
      triggers: { from: [{ kind: 'manual' }], to: [parse(next).triggers[0]!] },
    });
  });

  it('finds nothing between a document and itself reordered', () => {
    const reordered = { ...clone(base), steps: [...clone(base).steps].reverse() };
    const diff = diffDefinitions(parse(base), parse(reordered));
    expect(diff.steps).toEqual({ added: [], removed: [], changed: [] });
    expect(diff.edges).toEqual({ added: [], removed: [] });
    expect(diffDefinitions(parse(base), parse(clone(base)))).toMatchObject({ identical: true });
  });

  it('reports a description removed', () => {
    const { description: _gone, ...rest } = clone(base);
    expect(diffDefinitions(parse(base), parse(rest)).description).toEqual({
      from: 'orders to the warehouse',
      to: undefined,
    });
  });
});

describe('definitionJsonSchema', () => {
  it('matches the committed definition.schema.json (regenerate: pnpm --filter @vansales/definitions generate)', () => {
    const committed = readFileSync(join(__dirname, '..', 'definition.schema.json'), 'utf8');
    expect(JSON.parse(committed)).toEqual(JSON.parse(definitionJsonSchemaFile()));
    expect(JSON.parse(committed).$comment).toMatch(/Generated .* do not edit/);
  });

  it('describes the input side: required fields, the step kinds, defaults optional', () => {
    const schema = definitionJsonSchema() as { required: string[]; properties: Record<string, any> };
    expect(schema.required).toEqual(['format', 'name', 'steps', 'edges']);
    expect(JSON.stringify(schema.properties.steps)).toContain('"for-each"');
    expect(schema.properties.triggers.default).toEqual([{ kind: 'manual' }]);
  });
});

describe('cronProblem', () => {
  it.each(['0 2 * * *', '*/15 8-18 * * MON-FRI', '0 0 1,15 JAN-DEC 0-7', '5 4 * * sun', '@daily', '0-59/5 * * * *'])(
    'accepts %s',
    (c) => expect(cronProblem(c)).toBeUndefined(),
  );
  it.each([
    ['0 2 * *', /5 fields/],
    ['60 * * * *', /minute .*0-59/],
    ['* 24 * * *', /hour/],
    ['* * 0 * *', /day of month/],
    ['* * * 13 *', /month/],
    ['* * * * 8', /day of week/],
    ['*/0 * * * *', /step/],
    ['5-1 * * * *', /backwards/],
    ['a * * * *', /not a number/],
    ['1,,2 * * * *', /minute/],
  ])('refuses %s', (c, why) => expect(cronProblem(c)).toMatch(why));
});
