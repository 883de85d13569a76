'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { Alert } from '../../src/alert';
import { GatewayUrlField } from '../../src/gateway-url-field';
import { defaultGatewayUrl, parseGatewayUrl, saveSession } from '../../src/session';

/** Connect with a token: the admin token (bootstrap) or an API token, instead of signing in. */
export default function TokenPage() {
  const router = useRouter();
  const [gatewayUrl, setGatewayUrl] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');

  useEffect(() => setGatewayUrl(defaultGatewayUrl()), []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseGatewayUrl(gatewayUrl);
    if ('error' in parsed) return setError(parsed.error);
    if (!token.trim()) return setError('Paste a token: the admin token or an API token');
    saveSession({ gatewayUrl: parsed.origin, token: token.trim(), kind: 'token' });
    router.push('/tenants');
  };

  return (
    <>
      <h1>Connect with an API token</h1>
      <p>
        For the admin token while setting up the first owner, or an API token. People sign in with their email address
        instead.
      </p>
      <form onSubmit={submit} noValidate aria-describedby={error ? 'connect-error' : undefined}>
        <GatewayUrlField value={gatewayUrl} onChange={setGatewayUrl} />
        <label>
          Token
          <span className="hint">Kept in this tab only (sessionStorage) and sent only to the gateway.</span>
          <input
            name="token"
            type="password"
            required
            autoComplete="off"
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        <Alert id="connect-error" message={error} />
        <button type="submit">Connect</button>
      </form>
    </>
  );
}
