'use client';

import { useState } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';
import { Alert } from '../alert';

type Policy =
  paths['/v1/tenants/{tenantId}/connectors/{connectorId}/policy']['get']['responses']['200']['content']['application/json'];

/**
 * The site's policy as its agent describes it (read-only: only the site's policy.json changes it).
 * Asked on demand: the agent answers through a workflow on its queue, so it must be online.
 */
export function PolicyPanel({
  tenantId,
  connectorId,
  online,
}: {
  tenantId: string;
  connectorId: string;
  online: boolean;
}) {
  const [policy, setPolicy] = useState<Policy | undefined>(undefined);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const ask = async () => {
    setBusy(true);
    const out = await callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors/{connectorId}/policy', { params: { path: { tenantId, connectorId } } }),
    );
    setBusy(false);
    if (!out.ok) return setError(out.message);
    setError('');
    setPolicy(out.data);
  };

  return (
    <div data-testid="site-policy">
      <button type="button" className="secondary" disabled={!online || busy} onClick={() => void ask()}>
        {busy ? 'Asking the agent…' : 'Ask the agent for its policy'}
      </button>
      {!online && <p className="hint">The agent must be online to describe its policy.</p>}
      <Alert message={error} />
      {policy && (
        <dl>
          <dt>Writable tables</dt>
          <dd>
            {policy.writableTables.length === 0
              ? 'none: the cloud can only read'
              : policy.writableTables.map((t) => `${t.database}.${t.table}`).join(', ')}
          </dd>
          <dt>APIs on the site network</dt>
          <dd>
            {policy.apis.length === 0
              ? 'none'
              : policy.apis.map((a) => `${a.name} (${a.methods.join(', ')} ${a.paths.join(', ')})`).join('; ')}
          </dd>
          <dt>Protected columns</dt>
          <dd>
            {(policy.protectedColumns ?? []).length === 0
              ? 'none'
              : (policy.protectedColumns ?? [])
                  .map((p) => `${p.database}.${p.table}.${p.column}: ${p.action}`)
                  .join('; ')}
          </dd>
        </dl>
      )}
    </div>
  );
}
