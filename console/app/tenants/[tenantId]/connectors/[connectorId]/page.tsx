'use client';

import { useParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import type { paths } from '../../../../../src/api/client';
import { DoctorPanel } from '../../../../../src/connector/doctor-panel';
import { KeysPanel } from '../../../../../src/connector/keys-panel';
import { PolicyPanel } from '../../../../../src/connector/policy-panel';
import { SchemaBrowser } from '../../../../../src/connector/schema-browser';
import { lastSeenText, REFRESH_MS, useConnectors } from '../../../../../src/connector/use-connectors';
import { callGateway, useConnected } from '../../../../../src/gateway-call';
import { NotConnected } from '../../../../../src/not-connected';
import { Alert } from '../../../../../src/alert';
import { TenantNav } from '../../../../../src/tenant-nav';

type Refusal =
  paths['/v1/tenants/{tenantId}/connectors/{connectorId}/refusals']['get']['responses']['200']['content']['application/json'][number];

/** One connector: live status, keys, refusals, doctor, schema browser and the site's policy. */
export default function ConnectorPage() {
  const { tenantId, connectorId } = useParams<{ tenantId: string; connectorId: string }>();
  const connected = useConnected();
  const { connectors, error, checkedAt } = useConnectors(tenantId, REFRESH_MS, connected === true);
  const [refusals, setRefusals] = useState<Refusal[] | undefined>(undefined);
  const [refusalError, setRefusalError] = useState('');
  const connector = connectors?.find((c) => c.id === connectorId);

  useEffect(() => {
    if (!connected) return;
    void callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors/{connectorId}/refusals', {
        params: { path: { tenantId, connectorId } },
      }),
    ).then((out) => (out.ok ? setRefusals(out.data) : setRefusalError(out.message)));
  }, [connected, tenantId, connectorId, checkedAt]);

  if (connected === undefined) return null;
  if (!connected) return <NotConnected />;

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Connector {connector?.name ?? connectorId}</h1>
      <Alert message={error} />
      {connectors && !connector && <Alert message={`Tenant ${tenantId} has no connector ${connectorId}.`} />}
      {connector && (
        <>
          <section aria-labelledby="status-title">
            <h2 id="status-title">Status</h2>
            <dl data-testid="connector-status" aria-live="polite">
              <dt>Status</dt>
              <dd>
                <span className={`status ${connector.online ? 'status-online' : 'status-offline'}`}>
                  {connector.online ? 'Online' : 'Offline'}
                </span>
              </dd>
              <dt>Agent version</dt>
              <dd>{connector.agentVersion ?? 'not connected yet'}</dd>
              <dt>Last seen</dt>
              <dd>{lastSeenText(connector)}</dd>
              <dt>Databases</dt>
              <dd>{connector.databases.join(', ') || 'none reported'}</dd>
              <dt>Id</dt>
              <dd>
                <code>{connector.id}</code>
              </dd>
            </dl>
            <p className="hint">
              {checkedAt && `Checked at ${checkedAt.toLocaleTimeString()}; refreshed every 5 seconds.`}
            </p>
          </section>
          <section aria-labelledby="keys-title">
            <h2 id="keys-title">Keys</h2>
            <KeysPanel tenantId={tenantId} connectorId={connectorId} refresh={checkedAt} />
          </section>
          <section aria-labelledby="refusals-title">
            <h2 id="refusals-title">Refused connections</h2>
            <Alert message={refusalError} />
            {refusals && refusals.length === 0 && <p>None: no machine but the enrolled one has used its keys.</p>}
            {refusals && refusals.length > 0 && (
              <ul data-testid="refusals">
                {refusals.map((r) => (
                  <li key={`${r.keyId}-${r.machineId}-${String(r.at)}`}>
                    {new Date(r.at).toLocaleString()}: key <code>{r.keyId}…</code> from machine{' '}
                    <code>{r.machineId}</code>, {r.reason}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="doctor-title">
            <h2 id="doctor-title">Doctor</h2>
            <DoctorPanel tenantId={tenantId} connectorId={connectorId} refresh={checkedAt} />
          </section>
          <section aria-labelledby="schemas-title">
            <h2 id="schemas-title">Schemas</h2>
            <SchemaBrowser tenantId={tenantId} connectorId={connectorId} databases={connector.databases} />
          </section>
          <section aria-labelledby="policy-title">
            <h2 id="policy-title">Site policy (read-only)</h2>
            <PolicyPanel tenantId={tenantId} connectorId={connectorId} online={connector.online} />
          </section>
        </>
      )}
    </>
  );
}
