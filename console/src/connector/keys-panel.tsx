'use client';

import { useCallback, useEffect, useState } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';
import { Alert } from '../alert';
import { ColumnHeads } from '../column-heads';

type Key =
  paths['/v1/tenants/{tenantId}/connectors/{connectorId}/keys']['get']['responses']['200']['content']['application/json'][number];

const when = (d: string | null) => (d ? new Date(d).toLocaleString() : '');

/**
 * The connector's keys: each one's id (the non-secret start of the key, which the site can match),
 * when it was issued and last used, and the machine it is bound to; never the key. A new key is
 * shown once (the gateway keeps only its hash): rotating is issuing one, giving it to the agent
 * (`mini-connector init --force` on the site), then revoking the old one. Revoking one key drops
 * the agent using it at once; agents on the other keys keep working. Both revokes ask first.
 */
export function KeysPanel({
  tenantId,
  connectorId,
  refresh,
}: {
  tenantId: string;
  connectorId: string;
  refresh?: unknown;
}) {
  const [keys, setKeys] = useState<Key[] | undefined>(undefined);
  const [newKey, setNewKey] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  /** The key id whose revocation waits for a confirmation, or `all`. */
  const [confirming, setConfirming] = useState<string | undefined>(undefined);

  const load = useCallback(async () => {
    const out = await callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors/{connectorId}/keys', { params: { path: { tenantId, connectorId } } }),
    );
    if (!out.ok) return setError(out.message);
    setKeys(out.data);
  }, [tenantId, connectorId]);

  useEffect(() => {
    void load();
  }, [load, refresh]);

  const done = (text: string) => {
    setError('');
    setMessage(text);
    void load();
  };

  const issue = async () => {
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors/{connectorId}/keys', { params: { path: { tenantId, connectorId } } }),
    );
    if (!out.ok) return setError(out.message);
    setNewKey(out.data.apiKey);
    done('');
  };

  const revokeOne = async (keyId: string) => {
    setConfirming(undefined);
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors/{connectorId}/keys/{keyId}/revoke', {
        params: { path: { tenantId, connectorId, keyId } },
      }),
    );
    if (!out.ok) return setError(out.message);
    done(`Revoked key ${keyId}${out.data.disconnected ? '; the agent using it was disconnected' : ''}.`);
  };

  const revokeAll = async () => {
    setConfirming(undefined);
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors/{connectorId}/revoke', { params: { path: { tenantId, connectorId } } }),
    );
    if (!out.ok) return setError(out.message);
    setNewKey('');
    done(
      `Revoked ${out.data.revoked} ${out.data.revoked === 1 ? 'key' : 'keys'}${out.data.disconnected ? '; the agent was disconnected' : ''}.`,
    );
  };

  const live = keys?.filter((k) => !k.revokedAt) ?? [];

  return (
    <div>
      {keys && keys.length > 0 && (
        <table data-testid="keys-table">
          <caption className="hint">
            {live.length} live {live.length === 1 ? 'key' : 'keys'}; a key is shown only when issued
          </caption>
          <ColumnHeads names={['Key', 'Issued', 'Last used', 'Machine', 'State']} />
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <td data-label="Key">
                  <code className="key-id">{k.id}…</code>
                </td>
                <td data-label="Issued">{when(k.createdAt)}</td>
                <td data-label="Last used">{when(k.lastUsedAt) || 'never'}</td>
                <td data-label="Machine">
                  {k.machineFingerprint ? (
                    <code title="fingerprint of the machine's key pair">{k.machineFingerprint}</code>
                  ) : k.enrolUntil ? (
                    `not enrolled yet (until ${when(k.enrolUntil)})`
                  ) : (
                    'none'
                  )}
                </td>
                <td data-label="State">
                  {k.revokedAt ? (
                    `Revoked ${when(k.revokedAt)}`
                  ) : confirming === k.id ? (
                    <span className="row">
                      <button type="button" className="danger" onClick={() => void revokeOne(k.id)}>
                        Yes, revoke key {k.id}
                      </button>
                      <button type="button" className="secondary" onClick={() => setConfirming(undefined)}>
                        Keep it
                      </button>
                    </span>
                  ) : (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Revoke key ${k.id}…`}
                      onClick={() => setConfirming(k.id)}
                    >
                      Revoke…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row">
        <button type="button" onClick={() => void issue()}>
          Issue a new key (rotate)
        </button>
        {confirming === 'all' ? (
          <>
            <button type="button" className="danger" onClick={() => void revokeAll()}>
              Yes, revoke every key
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(undefined)}>
              Keep them
            </button>
          </>
        ) : (
          <button type="button" className="secondary" onClick={() => setConfirming('all')}>
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
            it in <code>VSC_API_KEY</code>, then revoke the old key here once the agent is back online.
          </p>
          <pre className="command" tabIndex={0} aria-label="New API key">
            {newKey}
          </pre>
        </div>
      )}
    </div>
  );
}
