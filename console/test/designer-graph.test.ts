import { freeStepId, fromDocument, layoutPositions, toDocument, validateGraph } from '../src/designer/graph';

const document = {
  format: 'vansales.definition/v1',
  name: 'films',
  triggers: [{ kind: 'manual' }],
  steps: [
    {
      id: 'read',
      kind: 'source',
      db: { endpoint: { kind: 'cloud-db', database: 'warehouse' }, table: { name: 'film' } },
    },
    { id: 'shape', kind: 'transform', transform: { op: 'map', fields: { title: '$uppercase(title)' } } },
    {
      id: 'load',
      kind: 'destination',
      db: { endpoint: { kind: 'cloud-db', database: 'warehouse' }, table: { name: 'film_copy' }, keyColumns: ['id'] },
    },
  ],
  edges: [
    { from: 'read', to: 'shape' },
    { from: 'shape', to: 'load' },
  ],
};

describe("the designer's graph: the document it draws and validates in the browser", () => {
  it('reads a document and writes the same one back (node ids are its own, step ids the document’s)', () => {
    const graph = fromDocument(document);
    expect([...graph.steps.keys()]).toEqual(['n1', 'n2', 'n3']);
    expect(toDocument(graph)).toEqual(document);
  });

  it('validates a good document with no issue', () => {
    const result = validateGraph(fromDocument(document));
    expect(result.ok).toBe(true);
    expect([...result.byNode.values()].flat()).toEqual([]);
  });

  it('puts a mapping that is not JSONata on its node, with the parser’s words', () => {
    const graph = fromDocument(document);
    graph.steps.set('n2', {
      id: 'shape',
      kind: 'transform',
      transform: { op: 'map', fields: { title: '$uppercase(title' } },
    });
    const result = validateGraph(graph);
    expect(result.ok).toBe(false);
    const issues = result.byNode.get('n2') ?? [];
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'steps[1].transform.fields.title', severity: 'error' });
    expect(issues[0]!.message).toMatch(/^transform\.fields\.title is not valid JSONata: Expected "\)"/);
    expect(result.byNode.get('n1')).toBeUndefined();
  });

  it('puts the schema’s and the graph’s issues on the step they name, and the rest on the document', () => {
    const graph = fromDocument(document);
    graph.steps.set('n1', {
      id: 'read',
      kind: 'source',
      db: { endpoint: { kind: 'cloud-db', database: '' }, table: { name: 'film' } },
    });
    graph.edges = graph.edges.filter((e) => e.target !== 'n3');
    graph.name = '';
    const result = validateGraph(graph);
    expect(result.byNode.get('n1')?.map((i) => i.path)).toContain('steps[0].db.endpoint.database');
    expect(result.byNode.get('n3')?.map((i) => i.code)).toContain('missing-input');
    expect(result.document.map((i) => i.path)).toContain('name');
  });

  it('lays out by depth and finds free step ids', () => {
    const graph = fromDocument(document);
    const positions = layoutPositions(graph);
    expect(positions.get('n1')!.x).toBeLessThan(positions.get('n2')!.x);
    expect(positions.get('n2')!.x).toBeLessThan(positions.get('n3')!.x);
    graph.steps.set('n4', { id: 'map-1', kind: 'transform' });
    expect(freeStepId('map', graph)).toBe('map-2');
  });
});
