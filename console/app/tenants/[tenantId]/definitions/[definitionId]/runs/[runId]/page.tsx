'use client';

import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { describeFailure, type paths } from '../../../../../../../src/api/client';
import { NotConnected } from '../../../../../../../src/not-connected';
import { explainStepError } from '../../../../../../../src/runs/explain-error';
import { RunFlags } from '../../../../../../../src/runs/run-flags';
import { StatusBadge } from '../../../../../../../src/runs/status-badge';
import { TenantNav } from '../../../../../../../src/tenant-nav';
import { unreachable, useGateway } from '../../../../../../../src/use-gateway';
import { Alert } from '../../../../../../../src/alert';

const RUN = '/v1/tenants/{tenantId}/definitions/{definitionId}/runs/{runId}';
type RunDetail = paths[typeof RUN]['get']['responses']['200']['content']['application/json'];
type Step = NonNullable<RunDetail['run']>['steps'][string];

/** While a run runs its page reads it again this often. */
const REFRESH_MS = 3_000;

const json = (value: unknown) => JSON.stringify(value, null, 2);
const duration = (s: Step) =>
  s.startedAt && s.finishedAt
    ? `${((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s`
    : s.startedAt && (s.state === 'running' || s.state === 'waiting')
      ? 'still running'
      : '';

/** Steps in the order they started; those that never started last, in the document's order. */
function ordered(steps: Record<string, Step>): [string, Step][] {
  return Object.entries(steps).sort(([, a], [, b]) => {
    if (a.startedAt && b.startedAt) return a.startedAt.localeCompare(b.startedAt);
    return a.startedAt ? -1 : b.startedAt ? 1 : 0;
  });
}

/** One run: its timeline (each step's status, timing, inputs, outputs, errors) and what can be done to it. */
export default function RunPage() {
  const params = useParams<{ tenantId: string; definitionId: string; runId: string }>();
  const { tenantId, definitionId } = params;
  const runId = decodeURIComponent(params.runId);
  const { connected, client, gatewayUrl } = useGateway();
  const [run, setRun] = useState<RunDetail | undefined>(undefined);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState<{ text: string; newRun?: string } | undefined>(undefined);
  const [fromStep, setFromStep] = useState('');

  const path = useMemo(() => ({ tenantId, definitionId, runId }), [tenantId, definitionId, runId]);
  const load = useCallback(async () => {
    if (!client) return;
    try {
      const { data, error: body, response } = await client.GET(RUN, { params: { path } });
      if (data) {
        setRun(data);
        setError('');
      } else setError(describeFailure(response.status, body));
    } catch {
      setError(unreachable(gatewayUrl));
    }
  }, [client, gatewayUrl, path]);

  const status = run?.status;
  useEffect(() => {
    void load();
    if (status && status !== 'running') return;
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load, status]);

  /** Calls one action and says what happened (a new run gets a link). */
  async function act(label: string, call: () => Promise<{ data?: unknown; error?: unknown; response: Response }>) {
    try {
      const { data, error: body, response } = await call();
      if (!data) return setNotice({ text: `${label}: ${describeFailure(response.status, body)}` });
      const newRun = (data as { runId?: string }).runId;
      setNotice({ text: `${label}: done.`, newRun: newRun !== runId ? newRun : undefined });
      await load();
    } catch {
      setNotice({ text: unreachable(gatewayUrl) });
    }
  }
  const cancel = () => act('Cancel', () => client!.POST(`${RUN}/cancel`, { params: { path } }));
  const rerun = () => act('Re-run', () => client!.POST(`${RUN}/rerun`, { params: { path } }));
  const retry = (step: string) =>
    act(`Retry from ${step}`, () => client!.POST(`${RUN}/retry`, { params: { path }, body: { fromStep: step } }));

  if (connected === undefined) return null;
  if (!connected) return <NotConnected />;
  const steps = run?.run ? ordered(run.run.steps) : [];
  const inputsOf = (id: string) => (run?.edges ?? []).filter((e) => e.to === id).map((e) => e.from);
  const retryable = run && run.status !== 'running' && run.status !== 'completed';
  const chosen = fromStep || steps.find(([, s]) => s.state === 'failed')?.[0] || steps[0]?.[0] || '';

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <p>
        <Link href={`/tenants/${tenantId}/runs`}>All runs</Link>
      </p>
      <h1>
        Run of {definitionId} <code className="hint">{runId}</code>
      </h1>
      <Alert message={error} />
      {run && (
        <>
          <dl className="facts">
            <dt>Status</dt>
            <dd data-testid="run-status">
              <StatusBadge status={run.status} />
              {run.run && run.run.state !== run.status && <span className="hint"> (interpreter: {run.run.state})</span>}
            </dd>
            <dt>Version</dt>
            <dd>{run.version ?? 'unknown'}</dd>
            <dt>Started</dt>
            <dd>
              {new Date(run.startedAt).toLocaleString()}
              {run.trigger && ` (${run.trigger}${run.startedBy ? ` by ${run.startedByLabel ?? run.startedBy}` : ''})`}
            </dd>
            <dt>Ended</dt>
            <dd>{run.closedAt ? new Date(run.closedAt).toLocaleString() : 'not yet'}</dd>
          </dl>

          <h2>Actions</h2>
          <div className="actions">
            {run.status === 'running' && (
              <button type="button" onClick={() => void cancel()}>
                Cancel run
              </button>
            )}
            <button type="button" className="secondary" onClick={() => void rerun()}>
              Re-run with the same input
            </button>
          </div>
          {retryable && steps.length > 0 && (
            <form
              className="filters"
              aria-label="Retry from a step"
              onSubmit={(e) => {
                e.preventDefault();
                void retry(chosen);
              }}
            >
              <label>
                Retry from step
                <select value={chosen} onChange={(e) => setFromStep(e.target.value)}>
                  {steps.map(([id]) => (
                    <option key={id} value={id}>
                      {id}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit">Retry</button>
            </form>
          )}
          <p aria-live="polite" data-testid="run-notice">
            {notice?.text}{' '}
            {notice?.newRun && (
              <Link href={`/tenants/${tenantId}/definitions/${definitionId}/runs/${encodeURIComponent(notice.newRun)}`}>
                Open the new run
              </Link>
            )}
          </p>
          <RunFlags tenantId={tenantId} definitionId={definitionId} />

          <h2>Timeline</h2>
          {run.dataHidden && (
            <p className="hint" data-testid="data-hidden">
              {run.dataHidden.charAt(0).toUpperCase() + run.dataHidden.slice(1)}.
            </p>
          )}
          {!run.dataHidden && run.input !== null && run.input !== undefined && (
            <details>
              <summary>Run input</summary>
              <pre tabIndex={0} aria-label="Run input">
                {json(run.input)}
              </pre>
            </details>
          )}
          {!run.run && (
            <p className="hint">
              The steps cannot be read now: no interpreter worker answered the status query. The run itself is{' '}
              {run.status}.
            </p>
          )}
          <ol className="timeline">
            {steps.map(([id, step]) => (
              <li key={id} data-testid={`step-${id}`}>
                <h3>
                  {id} <StatusBadge status={step.state} />
                </h3>
                <p className="hint">
                  {step.startedAt ? `started ${new Date(step.startedAt).toLocaleTimeString()}` : 'not started'}
                  {duration(step) && `, ${duration(step)}`}
                  {step.attempts ? `, attempt${step.attempts > 1 ? 's' : ''} ${step.attempts}` : ''}
                  {step.route ? `; ${step.route}` : ''}
                </p>
                {step.error && (
                  <div role="alert" className="error">
                    <p>
                      <strong>Error:</strong> {step.error}
                    </p>
                    <p>{explainStepError(step.error)}</p>
                    {retryable && (
                      <button type="button" onClick={() => void retry(id)}>
                        Retry from {id}
                      </button>
                    )}
                  </div>
                )}
                {!run.dataHidden && inputsOf(id).length > 0 && (
                  <details>
                    <summary>Inputs (outputs of {inputsOf(id).join(', ')})</summary>
                    <pre tabIndex={0} aria-label={`Inputs of ${id}`}>
                      {json(Object.fromEntries(inputsOf(id).map((from) => [from, run.run?.steps[from]?.output])))}
                    </pre>
                  </details>
                )}
                {!run.dataHidden && step.output !== undefined && (
                  <details>
                    <summary>Output</summary>
                    <pre tabIndex={0} aria-label={`Output of ${id}`}>
                      {json(step.output)}
                    </pre>
                  </details>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}
