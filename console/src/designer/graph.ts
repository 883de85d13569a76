import {
  DEFINITION_FORMAT,
  validateDefinitionStructure,
  type DefinitionDocumentInput,
  type ValidationIssue,
} from '@vansales/definitions';
import { expressionIssues } from './expressions';

/**
 * The designer's own state and its mapping to and from a definition document. Nodes carry an
 * internal id (`n1`, `n2`, …) so a person can rename a step (its `id` field) without the canvas
 * losing the node or its edges; the document only ever names step ids.
 */
export type StepDraft = Record<string, unknown> & { id: string; kind: string };

export interface EdgeDraft {
  id: string;
  source: string;
  target: string;
  when?: 'then' | 'else' | 'error';
  port?: 'left' | 'right';
}

export interface DesignerGraph {
  name: string;
  description?: string;
  triggers: Record<string, unknown>[];
  /** Node id → the step as the form edits it. */
  steps: Map<string, StepDraft>;
  edges: EdgeDraft[];
}

export interface NodeIssue {
  code: string;
  message: string;
  path: string;
  severity: 'error' | 'warning';
}

export function toDocument(graph: DesignerGraph): DefinitionDocumentInput {
  const stepIdOf = (nodeId: string) => graph.steps.get(nodeId)?.id ?? nodeId;
  return {
    format: DEFINITION_FORMAT,
    name: graph.name,
    ...(graph.description ? { description: graph.description } : {}),
    triggers: graph.triggers as DefinitionDocumentInput['triggers'],
    steps: [...graph.steps.values()] as unknown as DefinitionDocumentInput['steps'],
    edges: graph.edges.map((e) => ({
      from: stepIdOf(e.source),
      to: stepIdOf(e.target),
      ...(e.when ? { when: e.when } : {}),
      ...(e.port ? { port: e.port } : {}),
    })),
  };
}

/** A document (a saved version, an import) as designer state, with node ids in step order. */
export function fromDocument(document: unknown): DesignerGraph {
  const doc = (document && typeof document === 'object' ? document : {}) as Record<string, unknown>;
  const steps = new Map<string, StepDraft>();
  const nodeOfStep = new Map<string, string>();
  const rawSteps = Array.isArray(doc.steps) ? doc.steps : [];
  rawSteps.forEach((raw, i) => {
    const step = (raw && typeof raw === 'object' ? raw : {}) as StepDraft;
    const nodeId = `n${i + 1}`;
    steps.set(nodeId, step);
    if (typeof step.id === 'string') nodeOfStep.set(step.id, nodeId);
  });
  const rawEdges = Array.isArray(doc.edges) ? (doc.edges as Record<string, unknown>[]) : [];
  const edges: EdgeDraft[] = [];
  rawEdges.forEach((e, i) => {
    const source = nodeOfStep.get(String(e.from));
    const target = nodeOfStep.get(String(e.to));
    // An edge to a step the document does not have cannot be drawn; validation names it on save.
    if (!source || !target) return;
    edges.push({
      id: `e${i + 1}`,
      source,
      target,
      ...(e.when ? { when: e.when as EdgeDraft['when'] } : {}),
      ...(e.port ? { port: e.port as EdgeDraft['port'] } : {}),
    });
  });
  return {
    name: typeof doc.name === 'string' ? doc.name : 'untitled',
    ...(typeof doc.description === 'string' ? { description: doc.description } : {}),
    triggers: Array.isArray(doc.triggers) ? (doc.triggers as Record<string, unknown>[]) : [{ kind: 'manual' }],
    steps,
    edges,
  };
}

/**
 * Positions for a document that has none (the format keeps no layout): each step in the column of
 * its longest path from a start step, stacked in its column in document order.
 */
export function layoutPositions(graph: DesignerGraph): Map<string, { x: number; y: number }> {
  const incoming = new Map<string, string[]>();
  for (const id of graph.steps.keys()) incoming.set(id, []);
  for (const e of graph.edges) incoming.get(e.target)?.push(e.source);
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    // A cycle (validation names it) is cut where it closes.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(-1, ...(incoming.get(id) ?? []).map(depthOf)) + 1;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number }>();
  for (const id of graph.steps.keys()) {
    const column = depthOf(id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions.set(id, { x: 40 + column * 240, y: 40 + row * 110 });
  }
  return positions;
}

export interface GraphValidation {
  ok: boolean;
  /** Node id → its issues (schema, graph rules, JSONata syntax). */
  byNode: Map<string, NodeIssue[]>;
  /** Issues of the document itself (name, triggers, too many steps). */
  document: NodeIssue[];
  ms: number;
}

/**
 * The gateway's own structural validation (the same code, run in the browser: no round trip) plus
 * a JSONata parse of every expression, which the document schema only bounds in length.
 */
export function validateGraph(graph: DesignerGraph, extra: ValidationIssue[] = []): GraphValidation {
  const started = performance.now();
  const document = toDocument(graph);
  const result = validateDefinitionStructure(document);
  const issues: ValidationIssue[] = [...result.issues, ...expressionIssues(graph), ...extra];
  const nodeOfStep = new Map<string, string>();
  for (const [nodeId, step] of graph.steps) if (!nodeOfStep.has(step.id)) nodeOfStep.set(step.id, nodeId);
  const byNode = new Map<string, NodeIssue[]>();
  const documentIssues: NodeIssue[] = [];
  for (const issue of issues) {
    const entry: NodeIssue = { code: issue.code, message: issue.message, path: issue.path, severity: issue.severity };
    const nodeId = issue.stepId !== undefined ? nodeOfStep.get(issue.stepId) : nodeOfPath(issue.path, graph);
    if (nodeId) byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), entry]);
    else documentIssues.push(entry);
  }
  return {
    ok: !issues.some((i) => i.severity === 'error'),
    byNode,
    document: documentIssues,
    ms: performance.now() - started,
  };
}

/** `steps[3].db…` names the fourth step even when its id is missing or malformed. */
function nodeOfPath(path: string, graph: DesignerGraph): string | undefined {
  const match = /^steps\[(\d+)\]/.exec(path);
  if (!match) return undefined;
  return [...graph.steps.keys()][Number(match[1])];
}

/** The next free step id for a kind: `transform-1`, `transform-2`, … */
export function freeStepId(base: string, graph: DesignerGraph): string {
  const taken = new Set([...graph.steps.values()].map((s) => s.id));
  const stem = base.replace(/[^a-z0-9-]/g, '-').replace(/^[^a-z]+/, '') || 'step';
  for (let i = 1; ; i++) {
    const id = `${stem.slice(0, 56)}-${i}`;
    if (!taken.has(id)) return id;
  }
}
