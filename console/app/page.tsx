'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { describeFailure, describeSignInFailure, gatewayClient, unreachable } from '../src/api/client';
import { Alert } from '../src/alert';
import { GatewayUrlField } from '../src/gateway-url-field';
import { defaultGatewayUrl, parseGatewayUrl, saveSession, savePendingSso } from '../src/session';

/** Sign in: email and password, or a single sign-on provider of the gateway; a token is the secondary path. */
export default function SignInPage() {
  const router = useRouter();
  const [gatewayUrl, setGatewayUrl] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<string[]>([]);

  useEffect(() => setGatewayUrl(defaultGatewayUrl()), []);

  // The gateway's single sign-on providers, read again when its URL changes (public: no token yet).
  useEffect(() => {
    const parsed = parseGatewayUrl(gatewayUrl);
    if (!('origin' in parsed)) return setProviders([]);
    let live = true;
    const timer = setTimeout(() => {
      gatewayClient(parsed.origin)
        .GET('/v1/sso/providers')
        .then(
          ({ data }) => live && setProviders(data?.providers.map((p) => p.name) ?? []),
          () => live && setProviders([]),
        );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [gatewayUrl]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseGatewayUrl(gatewayUrl);
    if ('error' in parsed) return setError(parsed.error);
    if (!email.trim() || !password) return setError('Write your email address and your password.');
    setBusy(true);
    try {
      const {
        data,
        error: body,
        response,
      } = await gatewayClient(parsed.origin).POST('/v1/sessions', {
        body: { email: email.trim(), password },
      });
      if (!data) return setError(describeSignInFailure(response.status, body));
      setPassword('');
      saveSession({ gatewayUrl: parsed.origin, token: data.token, kind: 'session', email: data.user.email });
      router.push('/tenants');
    } catch {
      setError(unreachable(parsed.origin));
    } finally {
      setBusy(false);
    }
  };

  const singleSignOn = async (provider: string) => {
    const parsed = parseGatewayUrl(gatewayUrl);
    if ('error' in parsed) return setError(parsed.error);
    try {
      const {
        data,
        error: body,
        response,
      } = await gatewayClient(parsed.origin).GET('/v1/sso/{provider}/start', {
        params: { path: { provider }, query: { mode: 'json' } },
      });
      if (!data) return setError(describeFailure(response.status, body));
      // The provider sends the person back to /sso (its redirect URI), which finishes with this gateway.
      savePendingSso({ gatewayUrl: parsed.origin, provider });
      window.location.assign(data.authorizationUrl);
    } catch {
      setError(unreachable(parsed.origin));
    }
  };

  return (
    <>
      <h1>Sign in</h1>
      <form onSubmit={(e) => void submit(e)} noValidate aria-describedby={error ? 'sign-in-error' : undefined}>
        <GatewayUrlField value={gatewayUrl} onChange={setGatewayUrl} />
        <label>
          Email address
          <input
            name="email"
            type="email"
            required
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            required
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <Alert id="sign-in-error" message={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {providers.length > 0 && (
        <section aria-labelledby="sso-heading">
          <h2 id="sso-heading">Single sign-on</h2>
          <ul className="actions">
            {providers.map((p) => (
              <li key={p}>
                <button type="button" onClick={() => void singleSignOn(p)}>
                  Sign in with {p}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <p className="hint">
        An operator setting up the first owner, or a script? <Link href="/token">Connect with an API token</Link>{' '}
        instead.
      </p>
    </>
  );
}
