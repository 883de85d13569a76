'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { clearSession, loadSession, saveSession } from '../src/session';

/** Connect: the gateway's URL and a bearer token (the admin token, later an API token). */
export default function ConnectPage() {
  const router = useRouter();
  const [gatewayUrl, setGatewayUrl] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    const session = loadSession();
    setGatewayUrl(session?.gatewayUrl ?? window.location.origin.replace(/:\d+$/, ':8080'));
    setConnected(!!session);
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    let url: URL;
    try {
      url = new URL(gatewayUrl);
    } catch {
      setError('The gateway URL is not a URL: write it like https://gateway.example.com');
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      setError('The gateway URL must start with https:// (or http:// on this machine)');
      return;
    }
    if (!token.trim()) {
      setError('Paste a token: the admin token or an API token');
      return;
    }
    saveSession({ gatewayUrl: url.origin, token: token.trim() });
    router.push('/tenants');
  };

  return (
    <>
      <h1>Connect to a gateway</h1>
      {connected && (
        <p>
          Connected to <code>{gatewayUrl}</code>.{' '}
          <button
            type="button"
            onClick={() => {
              clearSession();
              setConnected(false);
              setToken('');
            }}
          >
            Disconnect
          </button>
        </p>
      )}
      <form onSubmit={submit} noValidate aria-describedby={error ? 'connect-error' : undefined}>
        <label>
          Gateway URL
          <input
            name="gatewayUrl"
            type="url"
            required
            autoComplete="url"
            value={gatewayUrl}
            onChange={(e) => setGatewayUrl(e.target.value)}
          />
        </label>
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
        {error && (
          <p id="connect-error" role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit">Connect</button>
      </form>
    </>
  );
}
