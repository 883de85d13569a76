'use client';

import { useCallback, useEffect, useState } from 'react';
import { describeFailure, type GatewayClient, type paths } from '../api/client';
import { Alert } from '../alert';
import { ColumnHeads } from '../column-heads';
import { ChainVerdict, type ChainVerification as Verification } from './chain-verdict';

const CHAIN = '/v1/tenants/{tenantId}/connectors/{connectorId}/audit';
type Entries = paths[typeof CHAIN]['get']['responses']['200']['content']['application/json'];
type Connector =
  paths['/v1/tenants/{tenantId}/connectors']['get']['responses']['200']['content']['application/json'][number];

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/** A connector's (site's) audit chain as the gateway holds it, and whether it verifies. */
export function ConnectorChain({ client, tenantId }: { client: GatewayClient; tenantId: string }) {
  const [connectors, setConnectors] = useState<Connector[]>([]);
  const [connectorId, setConnectorId] = useState('');
  const [verification, setVerification] = useState<Verification | undefined>(undefined);
  const [entries, setEntries] = useState<Entries | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    void client.GET('/v1/tenants/{tenantId}/connectors', { params: { path: { tenantId } } }).then(({ data }) => {
      setConnectors(data ?? []);
      if (data?.[0]) setConnectorId((id) => id || data[0]!.id);
    });
  }, [client, tenantId]);

  const load = useCallback(async () => {
    if (!connectorId) return;
    const path = { tenantId, connectorId };
    const [v, e] = await Promise.all([
      client.GET(`${CHAIN}/verify`, { params: { path } }),
      client.GET(CHAIN, { params: { path, query: { limit: 50 } } }),
    ]);
    setVerification(v.data);
    setEntries(e.data);
    setError(
      v.data
        ? e.data
          ? ''
          : describeFailure(e.response.status, e.error)
        : describeFailure(v.response.status, v.error),
    );
  }, [client, tenantId, connectorId]);
  useEffect(() => void load(), [load]);

  return (
    <section aria-labelledby="chain-title">
      <h2 id="chain-title">A connector&apos;s chain</h2>
      {connectors.length === 0 ? (
        <p>This tenant has no connector.</p>
      ) : (
        <label>
          Connector
          <select value={connectorId} onChange={(e) => setConnectorId(e.target.value)}>
            {connectors.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name} ({c.id})
              </option>
            ))}
          </select>
        </label>
      )}
      <Alert message={error} />
      {verification && <ChainVerdict verification={verification} testId="chain-verdict" />}
      {entries && entries.events.length > 0 && (
        <table data-testid="chain-table">
          <caption className="hint">
            {entries.next ? `The newest ${entries.events.length} records` : 'Every record'}, newest first
          </caption>
          <ColumnHeads names={['Record', 'When', 'Operation', 'Outcome', 'Hash']} />
          <tbody>
            {entries.events.map(({ seq, record }) => (
              <tr key={seq}>
                <td data-label="Record">{seq}</td>
                <td data-label="When">{text(record.at) && new Date(text(record.at)).toLocaleString()}</td>
                <td data-label="Operation">{text(record.operation)}</td>
                <td data-label="Outcome">{text(record.outcome)}</td>
                <td data-label="Hash">
                  <code>{text(record.hash).slice(0, 16)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {entries && entries.events.length === 0 && <p>No record in this connector&apos;s chain yet.</p>}
    </section>
  );
}
