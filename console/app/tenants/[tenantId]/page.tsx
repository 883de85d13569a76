'use client';

import { useParams } from 'next/navigation';
import Link from 'next/link';
import { Alert } from '../../../src/alert';
import { lastSeenText, REFRESH_MS, useConnectors } from '../../../src/connector/use-connectors';
import { useConnected } from '../../../src/gateway-call';
import { NotConnected } from '../../../src/not-connected';
import { TenantNav } from '../../../src/tenant-nav';
import { ColumnHeads } from '../../../src/column-heads';

/** A tenant's connectors: online or not, agent version, last seen, databases; each opens its details. */
export default function TenantConnectorsPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const connected = useConnected();
  const { connectors, error, checkedAt } = useConnectors(tenantId, REFRESH_MS, connected === true);

  if (connected === undefined) return null;
  if (!connected) return <NotConnected />;

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Connectors of {tenantId}</h1>
      <Alert message={error} />
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
          <ColumnHeads names={['Name', 'Status', 'Agent version', 'Last seen', 'Databases', 'Id']} />
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
