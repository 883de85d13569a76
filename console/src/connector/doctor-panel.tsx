'use client';

import { useEffect, useState } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';
import { Alert } from '../alert';

type Doctor =
  paths['/v1/tenants/{tenantId}/connectors/{connectorId}/doctor']['get']['responses']['200']['content']['application/json'];

const SEVERITY_TEXT = { error: 'Error', warning: 'Warning', info: 'Note' } as const;
const SEVERITY_CLASS = { error: 'status-failed', warning: 'status-warning', info: 'status-offline' } as const;

/**
 * The agent's `doctor` warnings as it last reported them (at each connection and every 15 minutes):
 * severity, what is wrong, what to do on the site. Read again with the page's status (`refresh`).
 */
export function DoctorPanel({
  tenantId,
  connectorId,
  refresh,
}: {
  tenantId: string;
  connectorId: string;
  refresh: unknown;
}) {
  const [doctor, setDoctor] = useState<Doctor | undefined>(undefined);
  const [error, setError] = useState('');

  useEffect(() => {
    void callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors/{connectorId}/doctor', {
        params: { path: { tenantId, connectorId } },
      }),
    ).then((out) => {
      if (!out.ok) return setError(out.message);
      setError('');
      setDoctor(out.data);
    });
  }, [tenantId, connectorId, refresh]);

  return (
    <div data-testid="doctor">
      <Alert message={error} />
      {doctor && !doctor.checkedAt && (
        <p>
          The agent has not reported yet: it runs its checks when it connects. On the site,{' '}
          <code>mini-connector doctor --config &lt;folder&gt;/agent.json</code> runs the database checks by hand.
        </p>
      )}
      {doctor?.checkedAt && (
        <p className="hint">
          Checked by the agent at {new Date(doctor.checkedAt).toLocaleString()} (its clock)
          {doctor.receivedAt && `, received ${new Date(doctor.receivedAt).toLocaleString()}`}.
        </p>
      )}
      {doctor?.checkedAt && doctor.warnings.length === 0 && <p>No warning: every check passed.</p>}
      {doctor && doctor.warnings.length > 0 && (
        <ul className="doctor-warnings">
          {doctor.warnings.map((w, i) => (
            <li key={`${w.check}-${w.database ?? ''}-${i}`}>
              <p>
                <span className={`status ${SEVERITY_CLASS[w.severity]}`}>{SEVERITY_TEXT[w.severity]}</span>{' '}
                <code>{w.check}</code>
                {w.database && (
                  <>
                    {' '}
                    (database <code>{w.database}</code>)
                  </>
                )}
                : {w.message}
              </p>
              {w.action && (
                <>
                  <p className="hint">What to do:</p>
                  <pre className="command" tabIndex={0} aria-label={`What to do about ${w.check}`}>
                    {w.action}
                  </pre>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
