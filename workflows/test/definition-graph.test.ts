import { DefinitionDocument, type DefinitionDocumentInput } from '@vansales/definitions';
import { buildGraph, nearestPeer } from '../src/definition/graph';
import { durationMs } from '../src/definition-workflow';

const doc = (d: Omit<DefinitionDocumentInput, 'format' | 'name'>) =>
  DefinitionDocument.parse({ format: 'vansales.definition/v1', name: 't', ...d });
const siteDb = (database: string, connectorId = 'c1') => ({ kind: 'site-db' as const, connectorId, database });

describe('the walkable graph of a definition', () => {
  it('fuses a site-db -> site-db pair on one connector with nothing between into one transfer', () => {
    const g = buildGraph(
      doc({
        steps: [
          { id: 'a', kind: 'source', db: { endpoint: siteDb('erp'), table: { name: 't' } } },
          { id: 'b', kind: 'destination', db: { endpoint: siteDb('dw'), table: { name: 't' }, keyColumns: ['id'] } },
        ],
        edges: [{ from: 'a', to: 'b' }],
      }).steps,
      [{ from: 'a', to: 'b' }],
    );
    expect(g.fusedWith.get('a')).toBe('b');
    expect(g.fusedInto.get('b')).toBe('a');
  });

  it('fuses a site-db table source and a site-api destination of one site only where the patch says so', () => {
    const siteApi = (connectorId = 'c1') => ({ kind: 'site-api' as const, connectorId, api: 'erp' });
    const d = doc({
      steps: [
        { id: 'a', kind: 'source', db: { endpoint: siteDb('erp'), table: { name: 't' } } },
        { id: 'b', kind: 'destination', http: { endpoint: siteApi(), path: '/orders' } },
        { id: 'c', kind: 'source', db: { endpoint: siteDb('erp'), table: { name: 'u' } } },
        { id: 'd', kind: 'destination', http: { endpoint: siteApi('c2'), path: '/orders' } },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'c', to: 'd' },
      ],
    });
    const asked: string[] = [];
    const fused = buildGraph(d.steps, d.edges, { fuseSiteApi: () => (asked.push('patch'), true) });
    expect([...fused.fusedWith]).toEqual([['a', 'b']]);
    expect(fused.fusedInto.get('b')).toBe('a');
    // Asked only for the candidate pair (same site), not for the pair across sites.
    expect(asked).toEqual(['patch']);
    // Runs started before the patch (or a caller without it) keep the two steps apart.
    expect(buildGraph(d.steps, d.edges, { fuseSiteApi: () => false }).fusedWith.size).toBe(0);
    expect(buildGraph(d.steps, d.edges).fusedWith.size).toBe(0);
  });

  it('does not fuse across connectors, through a transform, or a query source', () => {
    const d = doc({
      steps: [
        { id: 'a', kind: 'source', db: { endpoint: siteDb('erp'), table: { name: 't' } } },
        {
          id: 'b',
          kind: 'destination',
          db: { endpoint: siteDb('dw', 'c2'), table: { name: 't' }, keyColumns: ['id'] },
        },
        { id: 'q', kind: 'source', db: { endpoint: siteDb('erp'), sql: 'SELECT 1 AS id' } },
        { id: 'x', kind: 'transform', transform: { op: 'sort', by: [{ field: 'id' }] } },
        { id: 'd', kind: 'destination', db: { endpoint: siteDb('dw'), table: { name: 'u' }, keyColumns: ['id'] } },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'q', to: 'x' },
        { from: 'x', to: 'd' },
      ],
    });
    const g = buildGraph(d.steps, d.edges);
    expect(g.fusedWith.size).toBe(0);
    // The router sees the transform between q and d, and that it is heavy.
    expect(nearestPeer(g, 'q', 'down')).toEqual({
      endpoint: siteDb('dw'),
      transform: { heavy: true, placement: 'auto' },
    });
  });

  it('keeps compensation steps out of the walk', () => {
    const d = doc({
      steps: [
        { id: 'a', kind: 'parallel', onError: { compensate: 'undo' } },
        { id: 'undo', kind: 'parallel' },
      ],
      edges: [{ from: 'undo', to: 'a' }],
    });
    const g = buildGraph(d.steps, d.edges);
    expect(g.order).toEqual(['a']);
    expect(g.edges).toEqual([]);
    expect([...g.compensations]).toEqual(['undo']);
  });

  it('reads the model durations', () => {
    expect([durationMs('250ms'), durationMs('30s'), durationMs('5m'), durationMs('2h'), durationMs('1d')]).toEqual([
      250, 30_000, 300_000, 7_200_000, 86_400_000,
    ]);
  });
});
