'use client';

import { useState, type FormEvent } from 'react';
import { callGateway } from '../gateway-call';
import { Alert } from '../alert';

type Scheme = { type?: string; scheme?: string; in?: string; name?: string };

/** The credential kind the gateway stores for a security scheme, or undefined when the console cannot set it. */
function kindOf(s: Scheme): 'apiKey' | 'bearer' | undefined {
  if (s.type === 'apiKey') return 'apiKey';
  if (s.type === 'http' && s.scheme?.toLowerCase() === 'bearer') return 'bearer';
  return undefined;
}

/**
 * Authentication of an API the cloud calls: one secret per security scheme, stored by the gateway
 * as `<apiId>.<scheme>` (write-only: never read back). A site-only API's credentials stay in the
 * site's policy.json, so none is asked for here.
 */
export function ApiAuth({
  tenantId,
  apiId,
  schemes,
  accessibility,
}: {
  tenantId: string;
  apiId: string;
  schemes: Record<string, unknown>;
  accessibility?: string;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string[]>([]);
  const [error, setError] = useState('');
  const names = Object.keys(schemes);

  if (names.length === 0) return <p>This API declares no authentication.</p>;
  if (accessibility === 'site')
    return (
      <p>
        Authentication ({names.join(', ')}) is configured on the site, in its policy.json: the credentials never leave
        the site network.
      </p>
    );

  const save = async (event: FormEvent, name: string, kind: 'apiKey' | 'bearer') => {
    event.preventDefault();
    const secret = values[name]?.trim() ?? '';
    if (!secret) return setError(`Paste the secret for ${name} first.`);
    const out = await callGateway((c) =>
      c.PUT('/v1/tenants/{tenantId}/credentials/{name}', {
        params: { path: { tenantId, name: `${apiId}.${name}` } },
        body: { credential: kind === 'apiKey' ? { kind, value: secret } : { kind, token: secret } },
      }),
    );
    if (!out.ok) return setError(out.message);
    setError('');
    setValues({ ...values, [name]: '' });
    setSaved([...new Set([...saved, name])]);
  };

  return (
    <section aria-labelledby="auth-title">
      <h4 id="auth-title">Authentication</h4>
      <Alert message={error} />
      {names.map((name) => {
        const scheme = schemes[name] as Scheme;
        const kind = kindOf(scheme);
        return (
          <div key={name}>
            {kind ? (
              <form onSubmit={(e) => void save(e, name, kind)} noValidate>
                <label>
                  {name} (
                  {kind === 'apiKey' ? `API key in ${scheme.in ?? 'header'} ${scheme.name ?? ''}` : 'bearer token'})
                  <span className="hint">Stored encrypted by the gateway; never shown again.</span>
                  <input
                    type="password"
                    autoComplete="off"
                    value={values[name] ?? ''}
                    onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                  />
                </label>
                <button type="submit">Save {name}</button>
                {saved.includes(name) && <p role="status">Saved as {`${apiId}.${name}`}.</p>}
              </form>
            ) : (
              <p>
                {name} ({scheme.type}
                {scheme.scheme ? ` ${scheme.scheme}` : ''}): set it through the credentials API (OAuth authorizations
                and client certificates are not in the console yet).
              </p>
            )}
          </div>
        );
      })}
    </section>
  );
}
