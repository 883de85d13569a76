import type { Edge, Endpoint, Step, StepId } from '@vansales/definitions';

/** A step as the walker sees it: the document's step kinds (for-each bodies use the same shape). */
export type GraphStep = Step;

/**
 * The walkable form of a (validated) document or for-each body: edges by step, the compensation
 * steps set apart (they run only when the run fails), and the pairs that run as one task on the
 * site: a site-db table read into a site-db table (one transfer) or into a site API of the same site.
 */
export interface Graph {
  steps: Map<StepId, GraphStep>;
  /** Document order, which is also the order ready steps start in (deterministic). */
  order: StepId[];
  edges: Edge[];
  incoming: Map<StepId, number[]>;
  outgoing: Map<StepId, number[]>;
  /** Steps named as some step's `onError.compensate`: not part of the normal walk. */
  compensations: Set<StepId>;
  /** destination id -> source id of a pair that runs as ONE task on the site (dataTransfer, siteTableToApi). */
  fusedInto: Map<StepId, StepId>;
  /** source id -> destination id of the same pairs. */
  fusedWith: Map<StepId, StepId>;
}

export interface BuildOptions {
  /**
   * Whether a site-db table source and a site-api destination of the same site fuse too. Asked
   * only when the graph has such a pair: the interpreter answers with a Temporal patch, so runs
   * started before they fused replay unfused.
   */
  fuseSiteApi?: () => boolean;
  /**
   * Sources that must run as steps of their own: a site-event run's watched source takes its rows
   * from the batch (already in the buffer), so its destination has to load that dataset.
   */
  keepApart?: (source: GraphStep) => boolean;
}

export function buildGraph(steps: readonly GraphStep[], edges: readonly Edge[], options: BuildOptions = {}): Graph {
  const compensations = new Set<StepId>();
  for (const s of steps) if (s.onError?.compensate) compensations.add(s.onError.compensate);
  const walked = steps.filter((s) => !compensations.has(s.id));
  const map = new Map(walked.map((s) => [s.id, s] as const));
  const kept = edges.filter((e) => map.has(e.from) && map.has(e.to));
  const incoming = new Map<StepId, number[]>(walked.map((s) => [s.id, []]));
  const outgoing = new Map<StepId, number[]>(walked.map((s) => [s.id, []]));
  kept.forEach((e, i) => {
    outgoing.get(e.from)!.push(i);
    incoming.get(e.to)!.push(i);
  });
  const fusedInto = new Map<StepId, StepId>();
  const fusedWith = new Map<StepId, StepId>();
  for (const s of walked) {
    const out = outgoing.get(s.id)!;
    if (s.kind !== 'source' || !s.db?.table || s.db.sql || s.db.endpoint.kind !== 'site-db' || out.length !== 1)
      continue;
    const edge = kept[out[0]!]!;
    const d = map.get(edge.to)!;
    if (edge.when || d.kind !== 'destination' || incoming.get(d.id)!.length !== 1) continue;
    const to = d.db?.endpoint ?? d.http?.endpoint;
    if (to?.kind !== 'site-db' && to?.kind !== 'site-api') continue;
    if (to.connectorId !== s.db.endpoint.connectorId) continue;
    if (to.kind === 'site-api' && !options.fuseSiteApi?.()) continue;
    if (options.keepApart?.(s)) continue;
    fusedInto.set(d.id, s.id);
    fusedWith.set(s.id, d.id);
  }
  return {
    steps: map,
    order: walked.map((s) => s.id),
    edges: kept,
    incoming,
    outgoing,
    compensations,
    fusedInto,
    fusedWith,
  };
}

/** Where a step reads or writes, when it is a source or destination. */
export function endpointOf(step: GraphStep): Endpoint | undefined {
  if (step.kind === 'source') return step.db?.endpoint ?? step.http?.endpoint;
  if (step.kind === 'destination') return step.db?.endpoint ?? step.http?.endpoint;
  return undefined;
}

/** Transforms the router counts as heavy (they prefer the cloud). */
const HEAVY = new Set(['join', 'aggregate', 'sort', 'script']);

/**
 * The nearest endpoint of the other kind along the edges (downstream from a source, upstream from a
 * destination), and the transforms passed on the way: what the router needs for a step's route.
 */
export function nearestPeer(
  graph: Graph,
  from: StepId,
  direction: 'down' | 'up',
): { endpoint?: Endpoint; transform?: { heavy: boolean; placement: 'auto' | 'site' | 'cloud' } } {
  const want = direction === 'down' ? 'destination' : 'source';
  const seen = new Set<StepId>([from]);
  let frontier = [from];
  let transform: { heavy: boolean; placement: 'auto' | 'site' | 'cloud' } | undefined;
  while (frontier.length > 0) {
    const next: StepId[] = [];
    for (const id of frontier) {
      const edges = (direction === 'down' ? graph.outgoing : graph.incoming).get(id) ?? [];
      for (const i of edges) {
        const e = graph.edges[i]!;
        const peer = direction === 'down' ? e.to : e.from;
        if (seen.has(peer)) continue;
        seen.add(peer);
        const step = graph.steps.get(peer)!;
        if (step.kind === want) return { endpoint: endpointOf(step), transform };
        if (step.kind === 'transform') {
          const heavy = HEAVY.has(step.transform.op) || transform?.heavy === true;
          const placement = step.placement !== 'auto' ? step.placement : (transform?.placement ?? 'auto');
          transform = { heavy, placement };
        }
        next.push(peer);
      }
    }
    frontier = next;
  }
  return { transform };
}
