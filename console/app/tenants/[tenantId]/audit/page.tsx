'use client';

import { useParams } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { describeFailure, type paths } from '../../../../src/api/client';
import { ChainVerdict, type ChainVerification } from '../../../../src/audit/chain-verdict';
import { ConnectorChain } from '../../../../src/audit/connector-chain';
import { instant, useFilterForm } from '../../../../src/filter-form';
import { NotConnected } from '../../../../src/not-connected';
import { TenantNav } from '../../../../src/tenant-nav';
import { unreachable, useGateway } from '../../../../src/use-gateway';
import { Alert } from '../../../../src/alert';
import { ColumnHeads } from '../../../../src/column-heads';

type AuditPage = paths['/v1/tenants/{tenantId}/audit']['get']['responses']['200']['content']['application/json'];
type Person = { principal?: string; role?: string; ip?: string; status?: number };

interface Filters {
  principal: string;
  operation: string;
  since: string;
  until: string;
}
const NONE: Filters = { principal: '', operation: '', since: '', until: '' };
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** The tenant's people audit (who changed what, when, from where; filtered, exported) and a connector's chain. */
export default function AuditPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const { connected, client, gatewayUrl } = useGateway();
  const { applied, field, submit } = useFilterForm<Filters>(NONE);
  const [before, setBefore] = useState<number | undefined>(undefined);
  const [page, setPage] = useState<AuditPage | undefined>(undefined);
  const [error, setError] = useState('');
  const [exported, setExported] = useState<{ href: string; lines: number } | undefined>(undefined);
  const [verification, setVerification] = useState<ChainVerification | undefined>(undefined);

  const query = useCallback(
    () => ({
      principal: applied.principal || undefined,
      operation: applied.operation || undefined,
      since: instant(applied.since),
      until: instant(applied.until),
    }),
    [applied],
  );

  const load = useCallback(async () => {
    if (!client) return;
    try {
      const {
        data,
        error: body,
        response,
      } = await client.GET('/v1/tenants/{tenantId}/audit', {
        params: { path: { tenantId }, query: { ...query(), limit: 50, before } },
      });
      if (data) {
        setPage(data);
        setError('');
      } else setError(describeFailure(response.status, body));
    } catch {
      setError(unreachable(gatewayUrl));
    }
  }, [client, gatewayUrl, tenantId, query, before]);
  useEffect(() => void load(), [load]);

  async function verifyChain() {
    if (!client) return;
    const {
      data,
      error: body,
      response,
    } = await client.GET('/v1/tenants/{tenantId}/audit/verify', { params: { path: { tenantId } } });
    if (!data) return setError(describeFailure(response.status, body));
    setVerification(data);
  }

  async function exportAll() {
    if (!client) return;
    const {
      data,
      error: body,
      response,
    } = await client.GET('/v1/tenants/{tenantId}/audit/export', {
      params: { path: { tenantId }, query: query() },
      parseAs: 'text',
    });
    if (data === undefined) return setError(describeFailure(response.status, body));
    if (exported) URL.revokeObjectURL(exported.href);
    const text = String(data);
    setExported({
      href: URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' })),
      lines: text.split('\n').filter(Boolean).length,
    });
  }

  const apply = submit(() => setBefore(undefined));

  if (connected === undefined) return null;
  if (!connected || !client) return <NotConnected />;
  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Audit of {tenantId}</h1>
      <h2>Changes people made</h2>
      <form className="filters" onSubmit={apply} aria-label="Filter the people audit">
        <label>
          Who
          <input {...field('principal')} placeholder="user:<id>, token:<id>, admin-token" />
        </label>
        <label>
          Operation
          <input {...field('operation')} placeholder="POST /v1/tenants/:tenantId/members" />
        </label>
        <label>
          From
          <input type="datetime-local" {...field('since')} />
        </label>
        <label>
          Before
          <input type="datetime-local" {...field('until')} />
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void exportAll()}>
          Export as NDJSON
        </button>
        <button type="button" className="secondary" onClick={() => void verifyChain()}>
          Verify the chain
        </button>
        {exported && (
          <a href={exported.href} download={`audit-${tenantId}.ndjson`} data-testid="audit-export">
            Download the export ({exported.lines} records, oldest first)
          </a>
        )}
      </div>
      {verification && <ChainVerdict verification={verification} testId="people-chain-verdict" />}
      <Alert message={error} />
      {page && page.events.length === 0 && <p>No change matches these filters.</p>}
      {page && page.events.length > 0 && (
        <table data-testid="audit-table">
          <caption className="hint">Newest first</caption>
          <ColumnHeads names={['When', 'Who', 'Operation', 'Outcome', 'From']} />
          <tbody>
            {page.events.map((e) => {
              const person = (e.person ?? {}) as Person;
              return (
                <tr key={str(e.hash) || String(e.seq)}>
                  <td data-label="When">{new Date(str(e.at)).toLocaleString()}</td>
                  <td data-label="Who">
                    {person.principal} {person.role && <span className="hint">({person.role})</span>}
                  </td>
                  <td data-label="Operation">
                    <code>{str(e.operation)}</code>
                  </td>
                  <td data-label="Outcome">
                    {str(e.outcome)} {person.status && <span className="hint">{person.status}</span>}
                  </td>
                  <td data-label="From">{person.ip}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div className="actions">
        {before !== undefined && (
          <button type="button" className="secondary" onClick={() => setBefore(undefined)}>
            Newest changes
          </button>
        )}
        {page?.next && (
          <button type="button" className="secondary" onClick={() => setBefore(page.next)}>
            Older changes
          </button>
        )}
      </div>
      <ConnectorChain client={client} tenantId={tenantId} />
    </>
  );
}
