'use client';

import { useCallback, useEffect, useState } from 'react';
import { describeFailure, type paths } from '../api/client';
import { unreachable, useGateway } from '../use-gateway';

type Flag = paths['/v1/tenants/{tenantId}/flags']['get']['responses']['200']['content']['application/json'][number];

/**
 * The control flag of one definition: pause (runs wait at their next step), stop (runs end at their
 * next step) or resume (clear the flag). Flags apply to every run of the definition, running and new.
 */
export function RunFlags({ tenantId, definitionId }: { tenantId: string; definitionId: string }) {
  const { client, gatewayUrl } = useGateway();
  const [flag, setFlag] = useState<Flag | undefined>(undefined);
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState('');

  const load = useCallback(async () => {
    if (!client) return;
    const { data } = await client
      .GET('/v1/tenants/{tenantId}/flags', { params: { path: { tenantId } } })
      .catch(() => ({ data: undefined }));
    setFlag(data?.find((f) => f.scope === 'definition' && f.targetId === definitionId));
  }, [client, tenantId, definitionId]);
  useEffect(() => void load(), [load]);

  async function set(state: 'paused' | 'stopped' | undefined) {
    if (!client) return;
    const target = { scope: 'definition' as const, targetId: definitionId };
    try {
      const { error, response } = state
        ? await client.POST('/v1/tenants/{tenantId}/flags', {
            params: { path: { tenantId } },
            body: { ...target, state, reason: reason.trim() || `${state} from the console` },
          })
        : await client.DELETE('/v1/tenants/{tenantId}/flags', { params: { path: { tenantId } }, body: target });
      setMessage(
        response.ok
          ? state
            ? `Definition ${definitionId} is ${state}: its runs ${state === 'paused' ? 'wait at their next step' : 'end at their next step'} and no new run starts.`
            : `Definition ${definitionId} resumed.`
          : describeFailure(response.status, error),
      );
      await load();
    } catch {
      setMessage(unreachable(gatewayUrl));
    }
  }

  return (
    <section aria-labelledby="flags-title">
      <h2 id="flags-title">Pause, stop, resume</h2>
      <p data-testid="flag-state">
        {flag
          ? `Definition ${definitionId} is ${flag.state} (set by ${flag.setByLabel ?? flag.setBy} at ${new Date(flag.setAt).toLocaleString()}: ${flag.reason}).`
          : `No flag holds definition ${definitionId}.`}
      </p>
      <label>
        Reason (recorded with the flag)
        <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
      </label>
      <div className="actions">
        {flag?.state !== 'paused' && (
          <button type="button" className="secondary" onClick={() => void set('paused')}>
            Pause definition
          </button>
        )}
        {flag?.state !== 'stopped' && (
          <button type="button" className="secondary" onClick={() => void set('stopped')}>
            Stop definition
          </button>
        )}
        {flag && (
          <button type="button" onClick={() => void set(undefined)}>
            Resume definition
          </button>
        )}
      </div>
      <p aria-live="polite">{message}</p>
    </section>
  );
}
