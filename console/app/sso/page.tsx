'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { describeFailure, gatewayClient, messageOf, unreachable } from '../../src/api/client';
import { Alert } from '../../src/alert';
import { saveSession, takePendingSso } from '../../src/session';

/**
 * Where a single sign-on provider sends the person back (configure the provider's `redirectUri` as
 * `<console>/sso`): the code and state go to the gateway's callback route, which answers a session.
 * The query is taken out of the address bar and history at once (the code is single-use, still).
 */
export default function SingleSignOnReturnPage() {
  const router = useRouter();
  const [error, setError] = useState('');
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const query = new URLSearchParams(window.location.search);
    window.history.replaceState(null, '', window.location.pathname);
    const pending = takePendingSso();
    if (!pending) return setError('No single sign-on was started in this tab. Start again from the sign-in page.');
    const { gatewayUrl, provider } = pending;
    const q = (name: string) => query.get(name) ?? undefined;
    gatewayClient(gatewayUrl)
      .GET('/v1/sso/{provider}/callback', {
        params: { path: { provider }, query: { state: q('state'), code: q('code'), error: q('error') } },
      })
      .then(
        ({ data, error: body, response }) => {
          // 401/403 here are the provider's or the state's refusal, not a token's: the gateway's words say which.
          if (!data)
            return setError(
              response.status === 401 || response.status === 403
                ? `Single sign-on was refused: ${messageOf(body) || response.status}. Start again from the sign-in page.`
                : describeFailure(response.status, body),
            );
          saveSession({ gatewayUrl, token: data.token, kind: 'session', email: data.user.email });
          router.replace('/tenants');
        },
        () => setError(unreachable(gatewayUrl)),
      );
  }, [router]);

  return (
    <>
      <h1>Single sign-on</h1>
      {error ? (
        <>
          <Alert message={error} />
          <p>
            <Link href="/">Back to sign in</Link>
          </p>
        </>
      ) : (
        <p aria-live="polite">Finishing the sign-in…</p>
      )}
    </>
  );
}
