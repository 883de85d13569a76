'use client';

import { useId, useState } from 'react';
import type { GatewayClient } from '../api/client';
import type { DesignerGraph, EdgeDraft, NodeIssue, StepDraft } from './graph';
import { MappingEditor, type SampleSource } from './mapping-editor';
import { SchemaForm } from './schema-form';
import { stepSchema, triggerSchema } from './step-kinds';

/** `steps[3].db.table.name` → `db.table.name`: the path inside the step, as the form names its fields. */
const insideStep = (path: string) => path.replace(/^steps\[\d+\]\.?/, '');

/** The site table the step reads from, when the step before it is a site database source. */
function sampleSourceOf(graph: DesignerGraph, nodeId: string): SampleSource | undefined {
  for (const e of graph.edges) {
    if (e.target !== nodeId) continue;
    const db = graph.steps.get(e.source)?.db as
      | {
          endpoint?: { kind?: string; connectorId?: string; database?: string };
          table?: { schema?: string; name?: string };
        }
      | undefined;
    if (db?.endpoint?.kind === 'site-db' && db.endpoint.connectorId && db.endpoint.database && db.table?.name)
      return {
        connectorId: db.endpoint.connectorId,
        database: db.endpoint.database,
        table: { ...(db.table.schema ? { schema: db.table.schema } : {}), name: db.table.name },
      };
  }
  return undefined;
}

export function StepInspector({
  step,
  issues,
  graph,
  nodeId,
  client,
  tenantId,
  onChange,
  onDelete,
}: {
  step: StepDraft;
  issues: NodeIssue[];
  graph: DesignerGraph;
  nodeId: string;
  client: GatewayClient | undefined;
  tenantId: string;
  onChange: (step: StepDraft) => void;
  onDelete: () => void;
}) {
  const schema = stepSchema(step.kind);
  const transform = step.transform as { op?: string; fields?: Record<string, string> } | undefined;
  const custom =
    step.kind === 'transform' && transform?.op === 'map'
      ? {
          'transform.fields': (
            <MappingEditor
              fields={transform.fields ?? {}}
              onChange={(fields) => onChange({ ...step, transform: { ...transform, fields } })}
              source={sampleSourceOf(graph, nodeId)}
              client={client}
              tenantId={tenantId}
            />
          ),
        }
      : undefined;
  return (
    <section aria-label={`Step ${step.id}`} className="step-inspector">
      <h2>
        Step {step.id || '(no id)'} <span className="hint">({step.kind})</span>
      </h2>
      {issues.length > 0 && (
        <ul aria-label="Problems of this step" className="issues">
          {issues.map((i, n) => (
            <li key={n} className={i.severity === 'error' ? 'issue-error' : 'issue-warning'}>
              {i.severity === 'error' ? 'Error' : 'Warning'} at {insideStep(i.path) || 'the step'}: {i.message}
            </li>
          ))}
        </ul>
      )}
      {schema ? (
        <SchemaForm
          schema={schema}
          value={step}
          hidden={['kind']}
          invalidPaths={new Set(issues.map((i) => insideStep(i.path)))}
          custom={custom}
          onChange={(v) => onChange({ ...(v as StepDraft), kind: step.kind })}
        />
      ) : (
        <p className="error">Unknown step kind {step.kind}.</p>
      )}
      <button type="button" className="danger" onClick={onDelete}>
        Delete step {step.id}
      </button>
    </section>
  );
}

export function EdgeInspector({
  edge,
  graph,
  onChange,
  onDelete,
}: {
  edge: EdgeDraft;
  graph: DesignerGraph;
  onChange: (edge: EdgeDraft) => void;
  onDelete: () => void;
}) {
  const uid = useId();
  const name = (id: string) => graph.steps.get(id)?.id ?? id;
  return (
    <section aria-label="Edge" className="step-inspector">
      <h2>
        Edge {name(edge.source)} → {name(edge.target)}
      </h2>
      <div className="field">
        <label htmlFor={`${uid}-when`}>When</label>
        <select
          id={`${uid}-when`}
          value={edge.when ?? ''}
          onChange={(e) => onChange({ ...edge, when: (e.target.value || undefined) as EdgeDraft['when'] })}
        >
          <option value="">always</option>
          <option value="then">then (branch condition true)</option>
          <option value="else">else (branch condition false)</option>
          <option value="error">error (the step failed, continue on error)</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${uid}-port`}>Input port</label>
        <select
          id={`${uid}-port`}
          value={edge.port ?? ''}
          onChange={(e) => onChange({ ...edge, port: (e.target.value || undefined) as EdgeDraft['port'] })}
        >
          <option value="">(none)</option>
          <option value="left">left (join)</option>
          <option value="right">right (join)</option>
        </select>
      </div>
      <button type="button" className="danger" onClick={onDelete}>
        Delete this edge
      </button>
    </section>
  );
}

/** Connecting two steps without a pointer (the canvas's handles need one). */
export function ConnectForm({
  graph,
  onConnect,
}: {
  graph: DesignerGraph;
  onConnect: (from: string, to: string) => void;
}) {
  const uid = useId();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const options = [...graph.steps].map(([nodeId, s]) => (
    <option key={nodeId} value={nodeId}>
      {s.id}
    </option>
  ));
  if (graph.steps.size < 2) return null;
  return (
    <form
      className="connect-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (from && to && from !== to) onConnect(from, to);
      }}
    >
      <h2>Connect steps</h2>
      <div className="field">
        <label htmlFor={`${uid}-from`}>From step</label>
        <select id={`${uid}-from`} value={from} onChange={(e) => setFrom(e.target.value)}>
          <option value="">(choose)</option>
          {options}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${uid}-to`}>To step</label>
        <select id={`${uid}-to`} value={to} onChange={(e) => setTo(e.target.value)}>
          <option value="">(choose)</option>
          {options}
        </select>
      </div>
      <button type="submit">Connect</button>
    </form>
  );
}

const TRIGGER_WRAPPER = () => ({ type: 'object', properties: { trigger: triggerSchema() }, required: ['trigger'] });

export function TriggersPanel({
  triggers,
  onChange,
}: {
  triggers: Record<string, unknown>[];
  onChange: (triggers: Record<string, unknown>[]) => void;
}) {
  return (
    <section aria-label="Triggers" className="triggers">
      <h2>Triggers</h2>
      {triggers.length === 0 && <p className="hint">No trigger: the definition runs only when called.</p>}
      {triggers.map((t, i) => (
        <div key={i} className="trigger">
          <SchemaForm
            schema={TRIGGER_WRAPPER()}
            value={{ trigger: t }}
            onChange={(v) => {
              const next = (v as { trigger?: Record<string, unknown> }).trigger;
              onChange(next ? triggers.map((x, j) => (j === i ? next : x)) : triggers.filter((_, j) => j !== i));
            }}
          />
          <button type="button" className="link" onClick={() => onChange(triggers.filter((_, j) => j !== i))}>
            Remove trigger {i + 1} ({String(t.kind)})
          </button>
        </div>
      ))}
    </section>
  );
}
