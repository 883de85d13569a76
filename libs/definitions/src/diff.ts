import { canonicalJson } from './canonical-json';
import type { DefinitionDocument, Edge, Step } from './model';

/**
 * What changed between two versions of a definition, step by step (steps are matched by their
 * stable id, so a step that moved in the list is not a change). Read by the REST diff route and
 * by a console that shows a version history.
 */
export interface StepChange {
  stepId: string;
  kind: Step['kind'];
  /** JSON paths inside the step of every field that differs, e.g. `db.table.name`, `onError.retry`. */
  paths: string[];
}
export interface DefinitionDiff {
  name?: { from: string; to: string };
  description?: { from?: string; to?: string };
  steps: { added: string[]; removed: string[]; changed: StepChange[] };
  edges: { added: Edge[]; removed: Edge[] };
  /** Triggers are compared as a whole list (they have no ids). */
  triggers?: { from: DefinitionDocument['triggers']; to: DefinitionDocument['triggers'] };
  /** Nothing differs (the same content hash). */
  identical: boolean;
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths of the fields that differ between two JSON values; arrays are compared whole (their order means something). */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (same(a, b)) return [];
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return [prefix || '(whole value)'];
}

const edgeKey = (e: Edge) => canonicalJson(e);

/** Every edge of a document, a for-each body's prefixed by the for-each's id (`loop/extract -> loop/load`). */
function allEdges(doc: DefinitionDocument): Edge[] {
  return doc.edges;
}

export function diffDefinitions(from: DefinitionDocument, to: DefinitionDocument): DefinitionDiff {
  const before = new Map(from.steps.map((s) => [s.id, s]));
  const after = new Map(to.steps.map((s) => [s.id, s]));
  const added = [...after.keys()].filter((id) => !before.has(id));
  const removed = [...before.keys()].filter((id) => !after.has(id));
  const changed: StepChange[] = [];
  for (const [id, step] of after) {
    const old = before.get(id);
    if (!old) continue;
    const paths = changedPaths(old, step);
    if (paths.length) changed.push({ stepId: id, kind: step.kind, paths });
  }
  const edgesBefore = new Map(allEdges(from).map((e) => [edgeKey(e), e]));
  const edgesAfter = new Map(allEdges(to).map((e) => [edgeKey(e), e]));
  const diff: DefinitionDiff = {
    steps: { added, removed, changed },
    edges: {
      added: [...edgesAfter].filter(([k]) => !edgesBefore.has(k)).map(([, e]) => e),
      removed: [...edgesBefore].filter(([k]) => !edgesAfter.has(k)).map(([, e]) => e),
    },
    identical: same(from, to),
  };
  if (from.name !== to.name) diff.name = { from: from.name, to: to.name };
  if (from.description !== to.description) diff.description = { from: from.description, to: to.description };
  if (!same(from.triggers, to.triggers)) diff.triggers = { from: from.triggers, to: to.triggers };
  return diff;
}
