import {
  MAX_STEPS,
  validateDefinition,
  validateDefinitionStructure,
  type ValidationIssue,
} from '@vansales/definitions';

/** Documents here are deliberately wrong in many ways, so they are plain data, not the typed input. */
const doc = (d: Record<string, unknown>) => ({ format: 'vansales.definition/v1', name: 'test', ...d });

const siteDb = (connectorId = 'hq') => ({ kind: 'site-db' as const, connectorId, database: 'sakila' });
const cloudDb = { kind: 'cloud-db' as const, database: 'warehouse' };
const source = (id: string, extra: object = {}) => ({
  id,
  kind: 'source' as const,
  db: { endpoint: siteDb(), table: { name: 'film' } },
  ...extra,
});
const load = (id: string, endpoint: object = cloudDb, extra: object = {}) => ({
  id,
  kind: 'destination' as const,
  db: { endpoint, table: { name: 'film' }, keyColumns: ['film_id'] },
  ...extra,
});
const map = (id: string) => ({ id, kind: 'transform' as const, transform: { op: 'map' as const, fields: { a: 'a' } } });
const join = (id: string) => ({
  id,
  kind: 'transform' as const,
  transform: { op: 'join' as const, leftKey: ['id'], rightKey: ['id'] },
});
const e = (from: string, to: string, extra: object = {}) => ({ from, to, ...extra });

const issuesOf = (raw: unknown): ValidationIssue[] => {
  const result = validateDefinitionStructure(raw);
  return result.issues;
};
const brief = (issues: ValidationIssue[]) => issues.map((i) => ({ code: i.code, path: i.path, stepId: i.stepId }));

describe('validateDefinition', () => {
  it('accepts a valid document and applies its defaults', async () => {
    const result = await validateDefinition(
      doc({
        steps: [source('extract'), map('shape'), load('load')],
        edges: [e('extract', 'shape'), e('shape', 'load')],
      }),
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.issues).toEqual([]);
    expect(result.document.triggers).toEqual([{ kind: 'manual' }]);
    expect(result.document.steps[1]).toMatchObject({ placement: 'auto' });
  });

  it('maps schema errors to the step id and the field, every one of them', () => {
    const issues = issuesOf(
      doc({
        steps: [
          source('extract', { db: { endpoint: siteDb(), table: { name: 7 } } }),
          { id: 'Bad Id', kind: 'wait', duration: '5m' },
          { id: 'what', kind: 'teleport' },
          load('load', cloudDb, { onError: { retry: { maximumAttempts: 0 } } }),
        ] as never,
        edges: [e('extract', 'load')],
      }),
    );
    expect(brief(issues)).toEqual(
      expect.arrayContaining([
        { code: 'invalid-field', path: 'steps[0].db.table.name', stepId: 'extract' },
        { code: 'invalid-field', path: 'steps[1].id', stepId: 'Bad Id' },
        { code: 'invalid-field', path: 'steps[2].kind', stepId: 'what' },
        { code: 'invalid-field', path: 'steps[3].onError.retry.maximumAttempts', stepId: 'load' },
      ]),
    );
    const kind = issues.find((i) => i.path === 'steps[2].kind')!;
    expect(kind.message).toMatch(/"teleport" is not known; it is one of source, destination, transform/);
    expect(issues.every((i) => i.severity === 'error')).toBe(true);
  });

  it('names a missing field as required', () => {
    const issues = issuesOf(
      doc({
        steps: [{ id: 'load', kind: 'destination', db: { endpoint: cloudDb, table: { name: 't' } } }] as never,
        edges: [],
      }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({ path: 'steps[0].db.keyColumns', message: expect.stringMatching(/is required/) }),
    );
  });

  it('reports the graph problems even when the schema refused fields', () => {
    const issues = issuesOf(
      doc({
        steps: [source('extract', { db: { endpoint: siteDb(), table: { name: 7 } } }), map('a'), map('b')],
        edges: [e('extract', 'a'), e('a', 'b'), e('b', 'a')],
      }) as never,
    );
    expect(issues.map((i) => i.code)).toEqual(expect.arrayContaining(['invalid-field', 'cycle']));
  });

  it.each([
    [
      'duplicate step ids (bodies included)',
      doc({
        steps: [
          source('extract'),
          source('extract'),
          { id: 'each', kind: 'for-each', over: 'records', body: { steps: [load('extract')], edges: [] } },
        ],
        edges: [e('extract', 'each')],
      }),
      [
        { code: 'duplicate-step-id', path: 'steps[1].id', stepId: 'extract' },
        { code: 'duplicate-step-id', path: 'steps[2].body.steps[0].id', stepId: 'extract' },
      ],
    ],
    [
      'dangling edges',
      doc({
        steps: [source('extract'), load('load')],
        edges: [e('extract', 'lod'), e('ghost', 'load'), e('extract', 'load')],
      }),
      [
        { code: 'dangling-edge', path: 'edges[0].to', stepId: 'extract' },
        { code: 'dangling-edge', path: 'edges[1].from', stepId: 'load' },
      ],
    ],
    [
      'unreachable steps (a loop nothing enters)',
      doc({
        steps: [source('extract'), load('load'), map('a'), map('b')],
        edges: [e('extract', 'load'), e('a', 'b'), e('b', 'a')],
      }),
      [
        { code: 'cycle', path: 'edges[2]', stepId: 'a' },
        { code: 'unreachable-step', path: 'steps[2]', stepId: 'a' },
        { code: 'unreachable-step', path: 'steps[3]', stepId: 'b' },
      ],
    ],
    [
      'then/else edges from a step that is not a branch, and branch edges without when',
      doc({
        steps: [source('extract'), { id: 'check', kind: 'branch', condition: 'true' }, load('a'), load('b')],
        edges: [
          e('extract', 'check'),
          e('check', 'a'),
          e('extract', 'b', { when: 'else' }),
          e('check', 'b', { when: 'then' }),
        ],
      }),
      [
        { code: 'branch-edge-without-when', path: 'edges[1].when', stepId: 'check' },
        { code: 'branch-edge-not-from-branch', path: 'edges[2].when', stepId: 'extract' },
      ],
    ],
    [
      'a branch with no then or else edge',
      doc({
        steps: [source('extract'), { id: 'check', kind: 'branch', condition: 'true' }],
        edges: [e('extract', 'check')],
      }),
      [{ code: 'branch-without-edges', path: 'steps[1]', stepId: 'check' }],
    ],
    [
      'an error edge from a step that does not continue on error',
      doc({
        steps: [source('extract'), load('load'), load('fallback')],
        edges: [e('extract', 'load'), e('load', 'fallback', { when: 'error' })],
      }),
      [{ code: 'error-edge-without-continue', path: 'edges[1].when', stepId: 'load' }],
    ],
    [
      'a join without exactly a left and a right input',
      doc({
        steps: [source('orders'), source('customers'), join('joined'), load('load')],
        edges: [e('orders', 'joined', { port: 'left' }), e('customers', 'joined'), e('joined', 'load')],
      }),
      [{ code: 'join-inputs', path: 'steps[2]', stepId: 'joined' }],
    ],
    [
      'a port on an edge into anything but a join',
      doc({
        steps: [source('extract'), map('shape'), load('load')],
        edges: [e('extract', 'shape', { port: 'left' }), e('shape', 'load')],
      }),
      [{ code: 'port-not-into-join', path: 'edges[0].port', stepId: 'shape' }],
    ],
    [
      'a step that needs a dataset without an input',
      doc({ steps: [source('extract'), map('orphan'), load('load')], edges: [e('extract', 'load')] }),
      [{ code: 'missing-input', path: 'steps[1]', stepId: 'orphan' }],
    ],
    [
      'a destination followed by something that needs a dataset, also through a pass-through step',
      doc({
        steps: [
          source('extract'),
          load('load'),
          map('after-load'),
          { id: 'pause', kind: 'wait', duration: '5m' },
          load('again'),
          { id: 'child', kind: 'call', definitionId: 'other' },
          map('after-child'),
        ],
        edges: [
          e('extract', 'load'),
          e('load', 'after-load'),
          e('load', 'pause'),
          e('pause', 'again'),
          e('extract', 'child'),
          e('child', 'after-child'),
        ],
      }),
      [
        { code: 'type-mismatch', path: 'edges[1]', stepId: 'after-load' },
        { code: 'type-mismatch', path: 'edges[3]', stepId: 'again' },
        { code: 'type-mismatch', path: 'edges[5]', stepId: 'after-child' },
      ],
    ],
    [
      'a wait that starts the run passes no data on',
      doc({ steps: [{ id: 'pause', kind: 'wait', duration: '1h' }, load('load')], edges: [e('pause', 'load')] }),
      [{ code: 'type-mismatch', path: 'edges[0]', stepId: 'load' }],
    ],
    [
      'a source or destination without exactly one of db and http',
      doc({
        steps: [
          {
            id: 'both',
            kind: 'source',
            db: { endpoint: cloudDb, table: { name: 't' } },
            http: { endpoint: { kind: 'http', baseUrl: 'https://api.example.com' }, path: '/x' },
          },
          { id: 'neither', kind: 'destination' },
        ],
        edges: [e('both', 'neither')],
      }),
      [
        { code: 'endpoint-one-of', path: 'steps[0]', stepId: 'both' },
        { code: 'endpoint-one-of', path: 'steps[1]', stepId: 'neither' },
      ],
    ],
    [
      'a database source without exactly one of table and sql, and sql off a site database',
      doc({
        steps: [
          { id: 'both', kind: 'source', db: { endpoint: siteDb(), table: { name: 't' }, sql: 'select 1' } },
          { id: 'neither', kind: 'source', db: { endpoint: siteDb() } },
          { id: 'cloud-sql', kind: 'source', db: { endpoint: cloudDb, sql: 'select 1' } },
        ],
        edges: [],
      }),
      [
        { code: 'table-or-sql', path: 'steps[0].db', stepId: 'both' },
        { code: 'table-or-sql', path: 'steps[1].db', stepId: 'neither' },
        { code: 'sql-not-on-site-db', path: 'steps[2].db.sql', stepId: 'cloud-sql' },
      ],
    ],
    [
      'a wait without exactly one of duration and until',
      doc({
        steps: [
          source('extract'),
          { id: 'both', kind: 'wait', duration: '1m', until: '2030-01-01T00:00:00Z' },
          { id: 'neither', kind: 'wait' },
        ],
        edges: [e('extract', 'both'), e('extract', 'neither')],
      }),
      [
        { code: 'wait-one-of', path: 'steps[1]', stepId: 'both' },
        { code: 'wait-one-of', path: 'steps[2]', stepId: 'neither' },
      ],
    ],
    [
      'schedules without exactly one of cron and every, a bad cron, and two webhooks',
      doc({
        triggers: [
          { kind: 'schedule', catchupWindow: '1h', overlap: 'skip' },
          { kind: 'schedule', cron: '0 2 * * *', every: '1h', catchupWindow: '1h', overlap: 'skip' },
          { kind: 'schedule', cron: '61 2 * * *', catchupWindow: '1h', overlap: 'skip' },
          { kind: 'schedule', cron: '0 2 * *', catchupWindow: '1h', overlap: 'skip' },
          { kind: 'webhook', scheme: 'github' },
          { kind: 'webhook', scheme: 'stripe' },
        ],
        steps: [source('extract')],
        edges: [],
      }),
      [
        { code: 'schedule-one-of', path: 'triggers[0]', stepId: undefined },
        { code: 'schedule-one-of', path: 'triggers[1]', stepId: undefined },
        { code: 'invalid-cron', path: 'triggers[2].cron', stepId: undefined },
        { code: 'invalid-cron', path: 'triggers[3].cron', stepId: undefined },
        { code: 'multiple-webhooks', path: 'triggers[5]', stepId: undefined },
      ],
    ],
    [
      'a compensating step that does not exist, or is the step itself',
      doc({
        steps: [
          source('extract'),
          load('load', cloudDb, { onError: { compensate: 'undo' } }),
          load('self', cloudDb, { onError: { compensate: 'self' } }),
        ],
        edges: [e('extract', 'load'), e('extract', 'self')],
      }),
      [
        { code: 'unknown-compensate-step', path: 'steps[1].onError.compensate', stepId: 'load' },
        { code: 'unknown-compensate-step', path: 'steps[2].onError.compensate', stepId: 'self' },
      ],
    ],
    [
      'for-each bodies, recursively, with paths into the body',
      doc({
        steps: [
          source('extract'),
          {
            id: 'each',
            kind: 'for-each',
            over: 'batches',
            body: {
              steps: [map('shape'), load('write'), map('after')],
              edges: [e('shape', 'write'), e('write', 'after'), e('shape', 'extract')],
            },
          },
        ],
        edges: [e('extract', 'each')],
      }),
      [
        { code: 'dangling-edge', path: 'steps[1].body.edges[2].to', stepId: 'shape' },
        { code: 'type-mismatch', path: 'steps[1].body.edges[1]', stepId: 'after' },
      ],
    ],
  ])('reports %s', (_name, raw, expected) => {
    const issues = issuesOf(raw);
    expect(brief(issues)).toEqual(expected);
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(20);
  });

  it('names the cycle', () => {
    const issues = issuesOf(
      doc({
        steps: [source('extract'), map('a'), map('b'), map('c')],
        edges: [e('extract', 'a'), e('a', 'b'), e('b', 'c'), e('c', 'a')],
      }),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'cycle',
        stepId: 'a',
        message: expect.stringContaining('"a" -> "b" -> "c" -> "a"'),
      }),
    ]);
  });

  it('refuses an incremental source inside a for-each body, saying where to read incrementally instead', () => {
    const incremental = { db: { endpoint: siteDb(), table: { name: 'film' }, incremental: { column: 'last_update' } } };
    const issues = issuesOf(
      doc({
        steps: [
          source('stores'),
          {
            id: 'each',
            kind: 'for-each',
            over: 'batches',
            body: { steps: [source('films', incremental), load('load')], edges: [e('films', 'load')] },
          },
        ],
        edges: [e('stores', 'each')],
      }),
    );
    expect(brief(issues)).toEqual([
      { code: 'incremental-in-for-each', path: 'steps[1].body.steps[0].db.incremental', stepId: 'films' },
    ]);
    expect(issues[0]!.message).toContain('read incrementally in a source before the for-each');
    // At the top level the same source is fine: its cursor is kept between runs.
    expect(issuesOf(doc({ steps: [source('films', incremental), load('load')], edges: [e('films', 'load')] }))).toEqual(
      [],
    );
  });

  it('explains a type mismatch with what the step gets and what to do', () => {
    const [issue] = issuesOf(
      doc({ steps: [source('extract'), load('load'), map('more')], edges: [e('extract', 'load'), e('load', 'more')] }),
    );
    expect(issue!.message).toBe(
      'transform "more" needs a dataset, but its input from "load" is the summary a destination outputs (what it wrote), not a dataset: connect it to a source, transform or merge',
    );
  });

  it("lets a webhook definition's entry steps read the delivery's body; without the trigger they have no input", () => {
    const steps = [map('lines'), load('load')];
    const edges = [e('lines', 'load')];
    const hooked = validateDefinitionStructure(
      doc({ triggers: [{ kind: 'webhook', scheme: 'standard-webhooks' }], steps, edges }),
    );
    expect(brief(hooked.issues)).toEqual([]);
    expect(brief(issuesOf(doc({ steps, edges })))).toEqual([
      { code: 'missing-input', path: 'steps[0]', stepId: 'lines' },
    ]);
  });

  it('warns about a merge of one input, and accepts the document', () => {
    const result = validateDefinitionStructure(
      doc({
        steps: [source('extract'), { id: 'merged', kind: 'merge' }, load('load')],
        edges: [e('extract', 'merged'), e('merged', 'load')],
      }),
    );
    expect(result.ok).toBe(true);
    expect(brief(result.issues)).toEqual([{ code: 'merge-single-input', path: 'steps[1]', stepId: 'merged' }]);
    expect(result.issues[0]!.severity).toBe('warning');
  });

  it('accepts branches, error edges, joins, merges and for-each bodies used as designed', () => {
    const result = validateDefinitionStructure(
      doc({
        triggers: [
          { kind: 'schedule', cron: '*/15 8-18 * JAN-DEC MON-FRI', catchupWindow: '1h', overlap: 'skip' },
          { kind: 'webhook', scheme: 'standard-webhooks' },
        ],
        steps: [
          source('orders'),
          source('customers', { onError: { continueOnError: true } }),
          join('joined'),
          { id: 'big', kind: 'branch', condition: '$count > 10' },
          load('to-site', siteDb(), { onError: { compensate: 'undo' } }),
          load('to-cloud'),
          load('undo'),
          { id: 'alert', kind: 'wait', duration: '1m' },
          { id: 'both', kind: 'merge', dedupeKey: ['id'] },
          {
            id: 'each',
            kind: 'for-each',
            over: 'records',
            body: { steps: [map('shape'), load('write')], edges: [e('shape', 'write')] },
          },
        ],
        edges: [
          e('orders', 'joined', { port: 'left' }),
          e('customers', 'joined', { port: 'right' }),
          e('customers', 'alert', { when: 'error' }),
          e('joined', 'big'),
          e('big', 'to-site', { when: 'then' }),
          e('big', 'to-cloud', { when: 'else' }),
          e('orders', 'both'),
          e('customers', 'both'),
          e('both', 'each'),
        ],
      }),
    );
    expect(result.issues).toEqual([]);
    expect(result.ok).toBe(true);
  });

  describe('with the platform context', () => {
    const valid = doc({
      triggers: [
        {
          kind: 'site-event',
          connectorId: 'gone',
          database: 'erp',
          table: { name: 'orders' },
          cursorColumn: 'id',
          keyColumns: ['id'],
        },
      ],
      steps: [
        source('extract'),
        load(
          'to-orders',
          { kind: 'site-db', connectorId: 'hq', database: 'erp' },
          { db: { endpoint: siteDb(), table: { schema: 'public', name: 'orders' }, keyColumns: ['id'] } },
        ),
        load('to-offline', { kind: 'site-db', connectorId: 'branch', database: 'erp' }),
        { id: 'child', kind: 'call', definitionId: 'missing' },
      ],
      edges: [e('extract', 'to-orders'), e('extract', 'to-offline')],
    });

    it('reports unknown connectors and definitions, unwritable destinations, and warns when a site cannot be asked', async () => {
      const asked: string[] = [];
      const result = await validateDefinition(valid, {
        connectorExists: (id) => id !== 'gone',
        definitionExists: async (id) => id !== 'missing',
        destinationWritable: async (connectorId, database, table) => {
          asked.push(`${connectorId}/${database}/${table.schema ?? ''}.${table.name}`);
          if (connectorId === 'branch') throw new Error('agent offline');
          return table.name === 'orders' ? 'no' : 'yes';
        },
      });
      expect(result.ok).toBe(false);
      expect(result.issues.map((i) => [i.code, i.path, i.stepId, i.severity])).toEqual([
        // No step reads the watched erp.orders on connector gone.
        ['site-event-unread', 'triggers[0]', undefined, 'warning'],
        ['unknown-connector', 'triggers[0].connectorId', undefined, 'error'],
        ['unknown-definition', 'steps[3].definitionId', 'child', 'error'],
        ['destination-not-writable', 'steps[1].db.table', 'to-orders', 'error'],
        ['destination-writable-unknown', 'steps[2].db.table', 'to-offline', 'warning'],
      ]);
      expect(asked).toEqual(['hq/sakila/public.orders', 'branch/erp/.film']);
      expect(result.issues[3]!.message).toMatch(/policy does not list as writable/);
    });

    it('warns when no source step reads the table a site-event trigger watches (the batch would go unused)', () => {
      const trigger = {
        kind: 'site-event',
        connectorId: 'hq',
        database: 'sakila',
        table: { name: 'film' },
        cursorColumn: 'last_update',
        keyColumns: ['film_id'],
      };
      const reading = (table: string) =>
        doc({
          triggers: [trigger],
          steps: [source('extract', { db: { endpoint: siteDb(), table: { name: table } } }), load('load')],
          edges: [e('extract', 'load')],
        });
      expect(issuesOf(reading('film'))).toEqual([]);
      const unread = issuesOf(reading('actor'));
      expect(brief(unread)).toEqual([{ code: 'site-event-unread', path: 'triggers[0]', stepId: undefined }]);
      expect(unread[0]!.severity).toBe('warning');
      expect(unread[0]!.message).toMatch(/no source step reads that table on connector hq/);
    });

    it('accepts a document with only warnings, and returns them', async () => {
      const result = await validateDefinition(
        doc({ steps: [source('extract'), load('load', siteDb())], edges: [e('extract', 'load')] }),
        { connectorExists: () => true, destinationWritable: () => 'unknown' },
      );
      expect(result.ok).toBe(true);
      expect(result.issues.map((i) => i.code)).toEqual(['destination-writable-unknown']);
    });

    it('asks about each connector once', async () => {
      let calls = 0;
      await validateDefinition(doc({ steps: [source('a'), source('b'), source('c')], edges: [] }), {
        connectorExists: () => (calls++, true),
      });
      expect(calls).toBe(1);
    });
  });

  it('refuses what is not a document at all, in the same shape', () => {
    expect(brief(issuesOf('nope'))).toEqual([{ code: 'invalid-field', path: '', stepId: undefined }]);
    expect(issuesOf({ format: 'vansales.definition/v1' }).map((i) => i.path)).toEqual(['name', 'steps', 'edges']);
  });

  it('does not walk a graph past the schema limits (a hostile chain of 40,000 steps)', () => {
    const steps = Array.from({ length: 40_000 }, (_, i) => ({ id: `s${i}`, kind: 'wait', duration: '1s' }));
    const edges = steps.slice(1).map((s, i) => ({ from: `s${i}`, to: s.id }));
    const issues = issuesOf(doc({ steps, edges }));
    expect(brief(issues)).toEqual([
      { code: 'invalid-field', path: 'steps', stepId: undefined },
      { code: 'invalid-field', path: 'edges', stepId: undefined },
    ]);
  });
});

describe('the step limit', () => {
  /** A source, then maps, then a load: `n` steps in one line. */
  const chain = (n: number) => {
    const ids = Array.from({ length: n }, (_, i) => (i === 0 ? 'extract' : i === n - 1 ? 'load' : `m${i}`));
    return doc({
      steps: ids.map((id, i) => (i === 0 ? source(id) : i === n - 1 ? load(id) : map(id))),
      edges: ids.slice(1).map((id, i) => e(ids[i]!, id)),
    });
  };

  it('accepts a 1,000-step definition (what the designer is made to edit), and refuses one step more by its count', async () => {
    expect(MAX_STEPS).toBe(1_000);
    const largest = await validateDefinition(chain(MAX_STEPS));
    expect(largest.issues).toEqual([]);
    expect(largest.ok).toBe(true);
    const tooMany = issuesOf(chain(MAX_STEPS + 1));
    expect(tooMany).toHaveLength(1);
    expect(tooMany[0]).toMatchObject({ path: 'steps' });
    expect(tooMany[0]!.message).toMatch(/1000/);
  });
});
