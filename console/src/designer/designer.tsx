'use client';

import {
  Background,
  Controls,
  ReactFlow,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import type { ValidationIssue } from '@vansales/definitions';
import { memo, useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { gatewayClient, type GatewayClient } from '../api/client';
import type { Session } from '../session';
import {
  freeStepId,
  fromDocument,
  layoutPositions,
  toDocument,
  validateGraph,
  type DesignerGraph,
  type EdgeDraft,
  type GraphValidation,
  type StepDraft,
} from './graph';
import { PALETTE_MIME, Palette } from './palette';
import { StepInspector, EdgeInspector, TriggersPanel, ConnectForm } from './inspectors';
import { NodeLookupContext, StepNode } from './step-node';
import { newTrigger, type PaletteItem } from './step-kinds';
import { VersionsPanel } from './versions-panel';
import { Alert } from '../alert';

const NODE_TYPES = { step: StepNode };
/** A node's footprint on the canvas (flow units), wide enough for its issues to show beside the next. */
const NODE_W = 230;
const NODE_H = 110;

/** The first place right of (then below) `at`, within the visible columns, where a new node covers none: nodes added by button never stack. */
function freeSpot(at: { x: number; y: number }, nodes: Node[], columns: number): { x: number; y: number } {
  for (let row = 0; row < 50; row++)
    for (let col = 0; col < columns; col++) {
      const spot = { x: at.x + col * NODE_W, y: at.y + row * NODE_H };
      if (!nodes.some((n) => Math.abs(n.position.x - spot.x) < NODE_W && Math.abs(n.position.y - spot.y) < NODE_H))
        return spot;
    }
  return at;
}
const EMPTY: DesignerGraph = { name: 'untitled', triggers: [{ kind: 'manual' }], steps: new Map(), edges: [] };

/**
 * The canvas and its panels. The designer keeps the document (steps, edges, triggers) apart from
 * the nodes' positions: dragging moves positions only, so a drag frame neither rebuilds the
 * document nor validates it again; every edit of the document validates it at once, in the browser.
 */
export function Designer({ session, tenantId }: { session: Session; tenantId: string }) {
  const uid = useId();
  const client = useMemo(() => gatewayClient(session.gatewayUrl, session.token), [session]);
  const flow = useReactFlow();
  const [graph, setGraph] = useState<DesignerGraph>(EMPTY);
  const [nodes, setNodes] = useState<Node[]>([]);
  const [selectedNode, setSelectedNode] = useState<string | undefined>();
  const [selectedEdge, setSelectedEdge] = useState<string | undefined>();
  const [serverIssues, setServerIssues] = useState<ValidationIssue[]>([]);
  const [draftId, setDraftId] = useState('');
  const [definitionId, setDefinitionId] = useState('');
  const [importText, setImportText] = useState('');
  const [importError, setImportError] = useState('');
  const counter = useRef(0);
  const canvas = useRef<HTMLDivElement>(null);
  // The nodes as last rendered, for callbacks that must stay stable while nodes move.
  const nodesRef = useRef<Node[]>([]);
  nodesRef.current = nodes;

  const validation = useMemo(() => validateGraph(graph, serverIssues), [graph, serverIssues]);
  const document = useMemo(() => toDocument(graph) as unknown as Record<string, unknown>, [graph]);
  const lookup = useMemo(() => ({ steps: graph.steps, issues: validation.byNode }), [graph.steps, validation]);
  const errorCount = [...validation.byNode.values(), validation.document]
    .flat()
    .filter((i) => i.severity === 'error').length;

  // The page's hook for the frame-rate bench and tests: how long the last validation took.
  useEffect(() => {
    (window as unknown as { __designer?: unknown }).__designer = { validationMs: validation.ms, nodes: nodes.length };
  }, [validation, nodes.length]);

  const edit = useCallback((change: (g: DesignerGraph) => DesignerGraph) => {
    setServerIssues([]);
    setGraph(change);
  }, []);

  const load = useCallback(
    (doc: unknown) => {
      const next = fromDocument(doc);
      const positions = layoutPositions(next);
      counter.current = next.steps.size;
      setServerIssues([]);
      setGraph(next);
      setNodes([...next.steps.keys()].map((id) => ({ id, type: 'step', position: positions.get(id)!, data: {} })));
      setSelectedNode(undefined);
      setSelectedEdge(undefined);
      requestAnimationFrame(() => void flow.fitView({ maxZoom: 1 }));
    },
    [flow],
  );

  const addStep = useCallback(
    (item: PaletteItem, position?: { x: number; y: number }) => {
      const nodeId = `n${++counter.current}`;
      let at = position;
      if (!at) {
        const box = canvas.current?.getBoundingClientRect();
        const corner = flow.screenToFlowPosition(box ? { x: box.left + 24, y: box.top + 24 } : { x: 24, y: 24 });
        const columns = Math.max(1, Math.floor((box?.width ?? NODE_W) / (NODE_W * flow.getZoom())));
        at = freeSpot(corner, nodesRef.current, columns);
      }
      edit((g) => {
        const steps = new Map(g.steps);
        steps.set(nodeId, { id: freeStepId(item.idBase, g), ...structuredClone(item.step) } as StepDraft);
        return { ...g, steps };
      });
      setNodes((ns) => [
        ...ns.map((n) => ({ ...n, selected: false })),
        { id: nodeId, type: 'step', position: at, data: {}, selected: true },
      ]);
      setSelectedNode(nodeId);
      setSelectedEdge(undefined);
    },
    [edit, flow],
  );

  const removeNodes = useCallback(
    (ids: Set<string>) => {
      edit((g) => {
        const steps = new Map(g.steps);
        for (const id of ids) steps.delete(id);
        return { ...g, steps, edges: g.edges.filter((e) => !ids.has(e.source) && !ids.has(e.target)) };
      });
      setNodes((ns) => ns.filter((n) => !ids.has(n.id)));
      setSelectedNode((s) => (s && ids.has(s) ? undefined : s));
    },
    [edit],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange[]) => {
      const removed = new Set(changes.flatMap((c) => (c.type === 'remove' ? [c.id] : [])));
      if (removed.size) removeNodes(removed);
      setNodes((ns) =>
        applyNodeChanges(
          changes.filter((c) => c.type !== 'remove'),
          ns,
        ),
      );
    },
    [removeNodes],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const removed = new Set(changes.flatMap((c) => (c.type === 'remove' ? [c.id] : [])));
      if (removed.size) edit((g) => ({ ...g, edges: g.edges.filter((e) => !removed.has(e.id)) }));
    },
    [edit],
  );

  const connect = useCallback(
    (c: Connection | { source: string; target: string }) => {
      edit((g) => {
        const from = g.steps.get(c.source);
        const to = g.steps.get(c.target);
        const draft: EdgeDraft = {
          id: `e-${c.source}-${c.target}-${g.edges.length + 1}`,
          source: c.source,
          target: c.target,
        };
        // A branch's first edge is its `then`, the next its `else`; a join's first input is `left`.
        if (from?.kind === 'branch')
          draft.when = g.edges.some((e) => e.source === c.source && e.when === 'then') ? 'else' : 'then';
        if ((to?.transform as { op?: string } | undefined)?.op === 'join')
          draft.port = g.edges.some((e) => e.target === c.target && e.port === 'left') ? 'right' : 'left';
        return { ...g, edges: [...g.edges, draft] };
      });
    },
    [edit],
  );

  const edges: Edge[] = useMemo(
    () =>
      graph.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        selected: e.id === selectedEdge,
        label: [e.when, e.port].filter(Boolean).join(' ') || undefined,
      })),
    [graph.edges, selectedEdge],
  );

  const onDrop = useCallback(
    (event: React.DragEvent) => {
      const raw = event.dataTransfer.getData(PALETTE_MIME);
      if (!raw) return;
      event.preventDefault();
      addStep(JSON.parse(raw) as PaletteItem, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
    },
    [addStep, flow],
  );

  const addTrigger = useCallback(
    (kind: string) => edit((g) => ({ ...g, triggers: [...g.triggers, newTrigger(kind)] })),
    [edit],
  );
  const unselectEdge = useCallback(() => setSelectedEdge(undefined), []);

  return (
    <div className="designer">
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setDefinitionId(draftId.trim());
        }}
      >
        <span className="field-inline">
          <label htmlFor={`${uid}-def`}>Definition id</label>
          <input
            id={`${uid}-def`}
            value={draftId}
            pattern="[a-z0-9][a-z0-9\-]{0,62}"
            aria-describedby={`${uid}-def-hint`}
            onChange={(e) => setDraftId(e.target.value)}
          />
        </span>
        <button type="submit">Open definition</button>
        <span id={`${uid}-def-hint`} className="hint">
          Lower-case letters, digits and -. A new id starts a new definition on its first save.
        </span>
        <span className="field-inline">
          <label htmlFor={`${uid}-name`}>Name</label>
          <input
            id={`${uid}-name`}
            value={graph.name}
            onChange={(e) => edit((g) => ({ ...g, name: e.target.value }))}
          />
        </span>
      </form>

      <p aria-live="polite" className={errorCount ? 'error' : 'ok'} data-testid="validation-summary">
        {errorCount
          ? `${errorCount} error${errorCount === 1 ? '' : 's'}: see the marked steps.`
          : graph.steps.size
            ? 'The definition is valid.'
            : 'Add steps from the palette.'}{' '}
        <span className="hint">(checked in {validation.ms.toFixed(1)} ms)</span>
      </p>
      {validation.document.length > 0 && (
        <ul className="error" aria-label="Problems of the definition">
          {validation.document.map((i, n) => (
            <li key={n}>
              {i.path ? `${i.path}: ` : ''}
              {i.message}
            </li>
          ))}
        </ul>
      )}

      <div className="designer-grid">
        <Palette client={client} tenantId={tenantId} onAdd={addStep} onAddTrigger={addTrigger} />

        <div
          className="designer-canvas"
          ref={canvas}
          onDrop={onDrop}
          onDragOver={(e) => {
            if (e.dataTransfer.types.includes(PALETTE_MIME)) {
              e.preventDefault();
              e.dataTransfer.dropEffect = 'copy';
            }
          }}
          data-testid="canvas"
        >
          <NodeLookupContext.Provider value={lookup}>
            <ReactFlow
              nodes={nodes}
              edges={edges}
              nodeTypes={NODE_TYPES}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={connect}
              onNodeClick={(_, n) => {
                setSelectedNode(n.id);
                setSelectedEdge(undefined);
              }}
              onEdgeClick={(_, e) => {
                setSelectedEdge(e.id);
                setSelectedNode(undefined);
              }}
              onPaneClick={() => {
                setSelectedNode(undefined);
                setSelectedEdge(undefined);
              }}
              onlyRenderVisibleElements
              minZoom={0.05}
              ariaLabelConfig={{
                'node.a11yDescription.default': 'A step. Press Enter to select it, arrow keys to move it.',
              }}
            >
              <Background />
              <Controls />
            </ReactFlow>
          </NodeLookupContext.Provider>
        </div>

        <InspectorPanel
          graph={graph}
          validation={validation}
          selectedNode={selectedNode}
          selectedEdge={selectedEdge}
          client={client}
          tenantId={tenantId}
          edit={edit}
          removeNodes={removeNodes}
          connect={connect}
          unselectEdge={unselectEdge}
        />
      </div>

      <VersionsPanel
        client={client}
        tenantId={tenantId}
        definitionId={definitionId}
        document={document}
        canSave={validation.ok && graph.steps.size > 0}
        onOpen={load}
        onServerIssues={setServerIssues}
      />

      <details className="import">
        <summary>Import or export the document (JSON)</summary>
        <div className="field">
          <label htmlFor={`${uid}-import`}>Definition document</label>
          <textarea
            id={`${uid}-import`}
            rows={6}
            className="mono"
            value={importText}
            onChange={(e) => setImportText(e.target.value)}
          />
        </div>
        <button
          type="button"
          onClick={() => {
            try {
              load(JSON.parse(importText));
              setImportError('');
            } catch (err) {
              setImportError(`Not JSON: ${err instanceof Error ? err.message : String(err)}`);
            }
          }}
        >
          Import
        </button>{' '}
        <button type="button" onClick={() => setImportText(JSON.stringify(document, null, 2))}>
          Export the drawn document
        </button>
        <Alert message={importError} />
      </details>
    </div>
  );
}

/**
 * The inspector, memoised with stable callbacks: a drag changes only node positions, so it does not
 * re-render the forms (or the connect form's list of every step) on each frame.
 */
const InspectorPanel = memo(function InspectorPanel({
  graph,
  validation,
  selectedNode,
  selectedEdge,
  client,
  tenantId,
  edit,
  removeNodes,
  connect,
  unselectEdge,
}: {
  graph: DesignerGraph;
  validation: GraphValidation;
  selectedNode: string | undefined;
  selectedEdge: string | undefined;
  client: GatewayClient;
  tenantId: string;
  edit: (change: (g: DesignerGraph) => DesignerGraph) => void;
  removeNodes: (ids: Set<string>) => void;
  connect: (c: { source: string; target: string }) => void;
  unselectEdge: () => void;
}) {
  const selected = selectedNode ? graph.steps.get(selectedNode) : undefined;
  const edge = selectedEdge ? graph.edges.find((e) => e.id === selectedEdge) : undefined;
  return (
    <aside className="inspector" aria-label="Inspector">
      {selected && selectedNode && (
        <StepInspector
          key={selectedNode}
          step={selected}
          issues={validation.byNode.get(selectedNode) ?? []}
          graph={graph}
          nodeId={selectedNode}
          client={client}
          tenantId={tenantId}
          onChange={(step) =>
            edit((g) => {
              const steps = new Map(g.steps);
              steps.set(selectedNode, step);
              return { ...g, steps };
            })
          }
          onDelete={() => removeNodes(new Set([selectedNode]))}
        />
      )}
      {edge && (
        <EdgeInspector
          edge={edge}
          graph={graph}
          onChange={(next) => edit((g) => ({ ...g, edges: g.edges.map((e) => (e.id === next.id ? next : e)) }))}
          onDelete={() => {
            edit((g) => ({ ...g, edges: g.edges.filter((e) => e.id !== edge.id) }));
            unselectEdge();
          }}
        />
      )}
      {!selected && !edge && <p className="hint">Select a step or an edge to configure it.</p>}
      <ConnectForm graph={graph} onConnect={(source, target) => connect({ source, target })} />
      <TriggersPanel triggers={graph.triggers} onChange={(triggers) => edit((g) => ({ ...g, triggers }))} />
    </aside>
  );
});
