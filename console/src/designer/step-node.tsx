'use client';

import { Handle, Position, useStore, type NodeProps } from '@xyflow/react';
import { createContext, memo, useContext } from 'react';
import type { NodeIssue, StepDraft } from './graph';

/** What every node reads (one context, so a drag frame re-renders no node but the dragged one). */
export interface NodeLookup {
  steps: Map<string, StepDraft>;
  issues: Map<string, NodeIssue[]>;
}
export const NodeLookupContext = createContext<NodeLookup>({ steps: new Map(), issues: new Map() });

function subtitle(step: StepDraft): string {
  const t = step.transform as { op?: string } | undefined;
  if (step.kind === 'transform' && t?.op) return `transform: ${t.op}`;
  const db = step.db as { table?: { name?: string } } | undefined;
  if (db?.table?.name) return `${step.kind}: ${db.table.name}`;
  const http = step.http as { operation?: { key?: string }; path?: string } | undefined;
  if (http) return `${step.kind}: ${http.operation?.key ?? http.path ?? 'http'}`;
  return step.kind;
}

const COMPACT_BELOW_ZOOM = 0.45;
const compactSelector = (s: { transform: [number, number, number] }) => s.transform[2] < COMPACT_BELOW_ZOOM;

/** A step on the canvas: its id, what it does, and its validation errors in words. */
export const StepNode = memo(function StepNode({ id, selected }: NodeProps) {
  const { steps, issues } = useContext(NodeLookupContext);
  const step = steps.get(id);
  const problems = issues.get(id) ?? [];
  const errors = problems.filter((p) => p.severity === 'error');
  // Zoomed far out (a large graph fitted to the screen) the text is unreadable anyway: a node draws
  // its id only, which keeps dragging smooth when hundreds of nodes are on screen.
  const compact = useStore(compactSelector);
  if (!step) return null;
  if (compact)
    return (
      <div
        className={`step-node step-node-compact${errors.length ? ' step-node-invalid' : ''}`}
        data-testid={`node-${step.id}`}
        title={errors.length ? `${step.id}: ${errors.length} errors` : step.id}
      >
        <Handle type="target" position={Position.Left} />
        {step.id}
        <Handle type="source" position={Position.Right} />
      </div>
    );
  return (
    <div
      className={`step-node${errors.length ? ' step-node-invalid' : ''}${selected ? ' step-node-selected' : ''}`}
      data-testid={`node-${step.id}`}
    >
      <Handle type="target" position={Position.Left} />
      <strong className="step-node-id">{step.id || '(no id)'}</strong>
      <span className="step-node-kind">{subtitle(step)}</span>
      {problems.length > 0 && (
        <ul className="step-node-issues" aria-label={`Problems of ${step.id}`}>
          {problems.slice(0, 3).map((p, i) => (
            <li key={i} className={p.severity === 'error' ? 'issue-error' : 'issue-warning'}>
              {p.severity === 'error' ? 'Error: ' : 'Warning: '}
              {p.message}
            </li>
          ))}
          {problems.length > 3 && <li>and {problems.length - 3} more</li>}
        </ul>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
});
