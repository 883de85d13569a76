'use client';

import { useState } from 'react';
import { callGateway } from '../gateway-call';
import { Alert } from '../alert';

/**
 * The connector's keys. A new key is shown once (the gateway keeps only its hash): rotating is
 * issuing one, giving it to the agent (`mini-connector init --force` on the site), then revoking.
 * The gateway revokes every key of a connector at once (there is no per-key revoke), and drops its agent.
 */
export function KeysPanel({ tenantId, connectorId }: { tenantId: string; connectorId: string }) {
  const [newKey, setNewKey] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [confirming, setConfirming] = useState(false);
  const path = { tenantId, connectorId };

  const issue = async () => {
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors/{connectorId}/keys', { params: { path } }),
    );
    if (!out.ok) return setError(out.message);
    setError('');
    setMessage('');
    setNewKey(out.data.apiKey);
  };

  const revoke = async () => {
    setConfirming(false);
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors/{connectorId}/revoke', { params: { path } }),
    );
    if (!out.ok) return setError(out.message);
    setError('');
    setNewKey('');
    setMessage(
      `Revoked ${out.data.revoked} ${out.data.revoked === 1 ? 'key' : 'keys'}${out.data.disconnected ? '; the agent was disconnected' : ''}.`,
    );
  };

  return (
    <div>
      <div className="row">
        <button type="button" onClick={() => void issue()}>
          Issue a new key (rotate)
        </button>
        {confirming ? (
          <>
            <button type="button" className="danger" onClick={() => void revoke()}>
              Yes, revoke every key
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Keep them
            </button>
          </>
        ) : (
          <button type="button" className="secondary" onClick={() => setConfirming(true)}>
            Revoke every key…
          </button>
        )}
      </div>
      <Alert message={error} />
      {message && <p role="status">{message}</p>}
      {newKey && (
        <div role="status" data-testid="new-key">
          <p>
            The new key, shown <strong>only now</strong>. On the site, run <code>mini-connector init --force</code> with
            it in <code>VSC_API_KEY</code>, then revoke the old keys here once the agent is back online.
          </p>
          <pre className="command" tabIndex={0} aria-label="New API key">
            {newKey}
          </pre>
        </div>
      )}
    </div>
  );
}
