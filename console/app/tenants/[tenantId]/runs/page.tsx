'use client';

import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { describeFailure, type paths } from '../../../../src/api/client';
import { instant, useFilterForm } from '../../../../src/filter-form';
import { NotConnected } from '../../../../src/not-connected';
import { StatusBadge } from '../../../../src/runs/status-badge';
import { TenantNav } from '../../../../src/tenant-nav';
import { unreachable, useGateway } from '../../../../src/use-gateway';
import { Alert } from '../../../../src/alert';
import { ColumnHeads } from '../../../../src/column-heads';

type RunsQuery = NonNullable<paths['/v1/tenants/{tenantId}/runs']['get']['parameters']['query']>;
type RunsPage = paths['/v1/tenants/{tenantId}/runs']['get']['responses']['200']['content']['application/json'];

const STATUSES = ['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
const PAGE_SIZE = 50;

interface Filters {
  status: string;
  definition: string;
  connector: string;
  since: string;
  until: string;
}
const NO_FILTERS: Filters = { status: '', definition: '', connector: '', since: '', until: '' };

/** Every run of a tenant, newest first, filtered and paged by the gateway (keyset cursors). */
export default function TenantRunsPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const { connected, client, gatewayUrl } = useGateway();
  const { applied, field, submit } = useFilterForm<Filters>(NO_FILTERS);
  // The cursors of the pages before this one (Previous pops one), and this page's own.
  const [cursors, setCursors] = useState<(string | undefined)[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [page, setPage] = useState<RunsPage | undefined>(undefined);
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    if (!client) return;
    const query: RunsQuery = {
      status: (applied.status || undefined) as RunsQuery['status'],
      definition: applied.definition || undefined,
      connector: applied.connector || undefined,
      since: instant(applied.since),
      until: instant(applied.until),
      limit: PAGE_SIZE,
      after: cursor,
    };
    try {
      const {
        data,
        error: body,
        response,
      } = await client.GET('/v1/tenants/{tenantId}/runs', {
        params: { path: { tenantId }, query },
      });
      if (data) {
        setPage(data);
        setError('');
      } else setError(describeFailure(response.status, body));
    } catch {
      setError(unreachable(gatewayUrl));
    }
  }, [client, gatewayUrl, tenantId, applied, cursor]);

  useEffect(() => void load(), [load]);

  const apply = submit(() => {
    setCursors([]);
    setCursor(undefined);
  });

  if (connected === undefined) return null;
  if (!connected) return <NotConnected />;
  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Runs of {tenantId}</h1>
      <form className="filters" onSubmit={apply} aria-label="Filter runs">
        <label>
          Status
          <select {...field('status')}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Definition
          <input {...field('definition')} placeholder="definition id" />
        </label>
        <label>
          Connector
          <input {...field('connector')} placeholder="connector id" />
        </label>
        <label>
          Started from
          <input type="datetime-local" {...field('since')} />
        </label>
        <label>
          Started before
          <input type="datetime-local" {...field('until')} />
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <Alert message={error} />
      {page && page.runs.length === 0 && <p>No run matches these filters.</p>}
      {page && page.runs.length > 0 && (
        <table data-testid="runs-table">
          <caption className="hint">
            Runs, newest first{cursors.length ? `, page ${cursors.length + 1}` : ''}. Statuses of running runs are read
            again from Temporal for each page.
          </caption>
          <ColumnHeads names={['Definition', 'Status', 'Started', 'Trigger', 'Connectors', 'Run']} />
          <tbody>
            {page.runs.map((r) => (
              <tr key={r.runId} data-testid="run-row" data-run-id={r.runId}>
                <td data-label="Definition">
                  {r.definitionId} <span className="hint">v{r.version}</span>
                </td>
                <td data-label="Status">
                  <StatusBadge status={r.status} />
                </td>
                <td data-label="Started">{new Date(r.startedAt).toLocaleString()}</td>
                <td data-label="Trigger">
                  {r.trigger}{' '}
                  <span className="hint" title={r.startedBy}>
                    by {r.startedByLabel ?? r.startedBy}
                  </span>
                </td>
                <td data-label="Connectors">{r.connectorIds.join(', ') || '—'}</td>
                <td data-label="Run">
                  <Link href={`/tenants/${tenantId}/definitions/${r.definitionId}/runs/${encodeURIComponent(r.runId)}`}>
                    Open <code title={r.runId}>…{r.runId.slice(-10)}</code>
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        {cursors.length > 0 && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setCursor(cursors.at(-1));
              setCursors(cursors.slice(0, -1));
            }}
          >
            Newer runs
          </button>
        )}
        {page?.next && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setCursors([...cursors, cursor]);
              setCursor(page.next);
            }}
          >
            Older runs
          </button>
        )}
      </div>
    </>
  );
}
