'use client';

import { useParams } from 'next/navigation';
<<<<<<< HEAD
import { lastSeenText, REFRESH_MS, useConnectors } from '../../../src/connector/use-connectors';
import { useConnected } from '../../../src/gateway-call';
import { NotConnected } from '../../../src/not-connected';
<<<<<<< HEAD
import { TenantLinks } from '../../../src/tenant-links';
=======
import { ErrorLine, TenantNav } from '../../../src/tenant-nav';
>>>>>>> i16-cmarket
=======
import { useCallback, useEffect, useState } from 'react';
import { describeFailure, gatewayClient, unreachable, type paths } from '../../../src/api/client';
import { loadSession } from '../../../src/session';
import { NotConnected } from '../../../src/not-connected';
import { TenantNav } from '../../../src/tenant-nav';
>>>>>>> i16-cpeople

/** A tenant's connectors: online or not, agent version, last seen, databases; each opens its details. */
export default function TenantConnectorsPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
<<<<<<< HEAD
  const connected = useConnected();
  const { connectors, error, checkedAt } = useConnectors(tenantId, REFRESH_MS, connected === true);
=======
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
>>>>>>> i16-cpeople

  if (connected === undefined) return null;
  if (!connected) return <NotConnected />;

  return (
    <>
<<<<<<< HEAD
<<<<<<< HEAD
      <TenantLinks tenantId={tenantId} here="Connectors" />
=======
      <TenantNav tenantId={tenantId} />
>>>>>>> i16-cpeople
      <h1>Connectors of {tenantId}</h1>
      <p>
        <Link href={`/tenants/${tenantId}/designer`}>Open the designer</Link>
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
=======
      <TenantNav tenantId={tenantId} current="connectors" />
      <h1>Connectors of {tenantId}</h1>
      <ErrorLine message={error} />
>>>>>>> i16-cmarket
      <p aria-live="polite" className="hint">
        {checkedAt ? `Status checked at ${checkedAt.toLocaleTimeString()}; refreshed every 5 seconds.` : 'Loading…'}
      </p>
      {connectors && connectors.length === 0 && (
        <p>
          This tenant has no connector yet.{' '}
          <Link href={`/tenants/${encodeURIComponent(tenantId)}/marketplace`}>Install one from the marketplace</Link>.
        </p>
      )}
      {connectors && connectors.length > 0 && (
        <table>
          <caption className="hint">Mini connectors of this tenant</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Agent version</th>
              <th scope="col">Last seen</th>
              <th scope="col">Databases</th>
              <th scope="col">Id</th>
            </tr>
          </thead>
          <tbody>
            {connectors.map((c) => (
              <tr key={c.id} data-testid={`connector-${c.name}`}>
                <td data-label="Name">
                  <Link href={`/tenants/${encodeURIComponent(tenantId)}/connectors/${c.id}`}>{c.name}</Link>
                </td>
                <td data-label="Status">
                  <span className={`status ${c.online ? 'status-online' : 'status-offline'}`}>
                    {c.online ? 'Online' : 'Offline'}
                  </span>
                </td>
                <td data-label="Agent version">{c.agentVersion ?? 'not connected yet'}</td>
                <td data-label="Last seen">{lastSeenText(c)}</td>
                <td data-label="Databases">{c.databases.join(', ') || 'none'}</td>
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
