'use client';

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Alert } from '../alert';
import { callGateway } from '../gateway-call';
import { ScopeList, useOAuthClientFields, type SchemeProps } from './credential-forms';
import { useCredentialSave, type CredentialView } from './credential-save';
import { tokenStatusText } from './scheme-form';

/** How often the page reads the token status while the provider's page is open, and for how long. */
const POLL_MS = 1_500;
const POLL_FOR_MS = 10 * 60_000;

/**
 * OAuth 2.0 authorization code (or OpenID Connect): store the API's client, then "Connect" opens the
 * provider's page in a new window (the gateway's authorize route answers its address, PKCE and a
 * one-use state bound to the tenant); the provider sends the person to the gateway's callback, which
 * stores the tokens. This page reads the credential meanwhile and shows its token status, or the
 * provider's refusal (a wrong client secret is refused at the code exchange and recorded on the
 * credential).
 */
export function AuthorizationCodeForm({
  tokenUrl,
  scopes,
  openIdConnect,
  ...props
}: SchemeProps & { tokenUrl: string; scopes: string[]; openIdConnect: boolean }) {
  const client = useOAuthClientFields(props.scheme, tokenUrl);
  const { name, error, setError, busy, save } = useCredentialSave(props.tenantId, props.apiId, props.scheme);
  const [view, setView] = useState<CredentialView | undefined>(undefined);
  const [providerUrl, setProviderUrl] = useState('');
  const [waiting, setWaiting] = useState(false);
  const stop = useRef<() => void>(() => undefined);

  const read = async () => {
    const out = await callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/credentials/{name}', { params: { path: { tenantId: props.tenantId, name } } }),
    );
    if (out.ok) setView(out.data);
    return out.ok ? out.data : undefined;
  };

  // A client stored earlier shows its status at once.
  useEffect(() => {
    void read();
    return () => stop.current();
  }, [name]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const credential = client.collect();
    if (typeof credential === 'string') return setError(credential);
    const stored = await save(credential);
    if (stored) {
      client.clear();
      setView(stored);
    }
  };

  /** Reads the status until it changes from `before` (a token or a refusal), the window closes, or 10 minutes. */
  const watch = (before: string) => {
    stop.current();
    setWaiting(true);
    const until = Date.now() + POLL_FOR_MS;
    const timer = setInterval(() => {
      void read().then((now) => {
        const changed = now && JSON.stringify([now.oauth, now.failure]) !== before;
        if (changed || Date.now() > until) stop.current();
      });
    }, POLL_MS);
    stop.current = () => {
      clearInterval(timer);
      setWaiting(false);
    };
  };

  const connect = async () => {
    // Opened now, while the click still counts as the person's (a window opened after an await is blocked).
    const popup = window.open('about:blank', '_blank');
    if (popup) popup.opener = null;
    const requested = openIdConnect ? ['openid'] : scopes;
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/apis/{apiId}/oauth/{scheme}/authorize', {
        params: { path: { tenantId: props.tenantId, apiId: props.apiId, scheme: props.scheme } },
        body: {
          ...(requested.length > 0 ? { scopes: requested } : {}),
          // OpenID providers issue refresh tokens (offline_access) only with prompt=consent.
          ...(requested.includes('offline_access') ? { prompt: 'consent' as const } : {}),
        },
      }),
    );
    if (!out.ok) {
      popup?.close();
      return setError(out.message);
    }
    setError('');
    setProviderUrl(out.data.authorizationUrl);
    if (popup) popup.location.href = out.data.authorizationUrl;
    watch(JSON.stringify([view?.oauth, view?.failure]));
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <fieldset>
        <legend>
          {props.scheme}: {openIdConnect ? 'OpenID Connect' : 'OAuth 2.0'} authorization code
        </legend>
        <p className="hint">
          Store the client registered with the provider (its secret is stored encrypted, never shown again), then
          connect: you sign in at the provider and the platform keeps and refreshes the token.
        </p>
        {client.fields}
        <ScopeList scopes={openIdConnect ? ['openid'] : scopes} />
        <Alert message={error} />
        <button type="submit" disabled={busy}>
          Save {props.scheme}
        </button>{' '}
        <button type="button" disabled={!view} onClick={() => void connect()}>
          Connect {props.scheme}
        </button>
        {providerUrl && (
          <p className="hint">
            If no window opened,{' '}
            <a href={providerUrl} target="_blank" rel="noopener noreferrer">
              open the provider&apos;s page
            </a>
            .
          </p>
        )}
        <p role="status" data-testid={`token-status-${props.scheme}`}>
          {view && `Client ${view.fields.clientId ?? ''} stored as ${name}. ${tokenStatusText(view)}`}
          {waiting && ' Waiting for the provider…'}
        </p>
      </fieldset>
    </form>
  );
}
