'use client';

import { useParams } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { describeFailure, gatewayClient, unreachable, type paths } from '../../../src/api/client';
import { loadSession } from '../../../src/session';
import { NotConnected } from '../../../src/not-connected';
import { TenantNav } from '../../../src/tenant-nav';

type Connector =
  paths['/v1/tenants/{tenantId}/connectors']['get']['responses']['200']['content']['application/json'][number];

/** How often the status is read again: "live" without a socket of its own (the gateway has no event stream yet). */
const REFRESH_MS = 5_000;

/** A tenant's connectors and whether each is online now. */
export default function TenantConnectorsPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const [connected, setConnected] = useState<boolean | undefined>(undefined);
  const [connectors, setConnectors] = useState<Connector[] | undefined>(undefined);
  const [error, setError] = useState('');
  const [checkedAt, setCheckedAt] = useState<Date | undefined>(undefined);

  const refresh = useCallback(async () => {
    const session = loadSession();
    setConnected(!!session);
    if (!session) return;
    const client = gatewayClient(session.gatewayUrl, session.token);
    try {
      const {
        data,
        error: body,
        response,
      } = await client.GET('/v1/tenants/{tenantId}/connectors', {
        params: { path: { tenantId } },
      });
      if (data) {
        setConnectors(data);
        setError('');
        setCheckedAt(new Date());
      } else setError(describeFailure(response.status, body));
    } catch {
      setError(unreachable(session.gatewayUrl));
    }
  }, [tenantId]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  if (connected === undefined) return null;
  if (!connected) return <NotConnected />;

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Connectors of {tenantId}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p aria-live="polite" className="hint">
        {checkedAt ? `Status checked at ${checkedAt.toLocaleTimeString()}; refreshed every 5 seconds.` : 'Loading…'}
      </p>
      {connectors && connectors.length === 0 && <p>This tenant has no connector yet.</p>}
      {connectors && connectors.length > 0 && (
        <table>
          <caption className="hint">Mini connectors of this tenant</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {connectors.map((c) => (
              <tr key={c.id} data-testid={`connector-${c.name}`}>
                <td data-label="Name">{c.name}</td>
                <td data-label="Status">
                  <span className={`status ${c.online ? 'status-online' : 'status-offline'}`}>
                    {c.online ? 'Online' : 'Offline'}
                  </span>
                </td>
                <td data-label="Id">
                  <code>{c.id}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
