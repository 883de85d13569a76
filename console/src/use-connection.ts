'use client';

import { useEffect, useState } from 'react';
import { gatewayClient, type GatewayClient, type paths } from './api/client';
import { loadSession, onSessionChange, type Session } from './session';

export interface Connection {
  /** False until the tab's sessionStorage was read (it exists only in the browser). */
  ready: boolean;
  session?: Session;
  client?: GatewayClient;
}

/** The tab's connection to a gateway, kept current when this tab signs in or out. */
export function useConnection(): Connection {
  const [state, setState] = useState<Connection>({ ready: false });
  useEffect(() => {
    const read = () => {
      const session = loadSession();
      setState({ ready: true, session, client: session && gatewayClient(session.gatewayUrl, session.token) });
    };
    read();
    return onSessionChange(read);
  }, []);
  return state;
}

export type Me = paths['/v1/me']['get']['responses']['200']['content']['application/json'];
export type Role = Me['memberships'][number]['role'];

/** Every reader of GET /v1/me in the tab (the header's switcher too) reads again after a membership changes. */
const ME_CHANGED = 'vsc-me-changed';

/**
 * The signed-in person and their tenants (`GET /v1/me`). Undefined `me` with no error while loading;
 * `me: null` when the token is no person's (the admin token or a tenant's token: no tenant list).
 * `reload` makes every reader in the tab read it again (after creating a tenant).
 */
export function useMe(connection: Connection): { me?: Me | null; error: string; reload: () => void } {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState('');
  const [generation, setGeneration] = useState(0);
  const { client, session } = connection;
  useEffect(() => {
    const bump = () => setGeneration((g) => g + 1);
    window.addEventListener(ME_CHANGED, bump);
    return () => window.removeEventListener(ME_CHANGED, bump);
  }, []);
  useEffect(() => {
    if (!client || !session) return setMe(undefined);
    let live = true;
    client.GET('/v1/me').then(
      ({ data, response }) => {
        if (!live) return;
        setError('');
        if (data) setMe(data);
        else if (response.status === 401) setError('Your sign-in has ended. Sign in again.');
        else setMe(null);
      },
      () => live && setError(`The gateway at ${session.gatewayUrl} did not answer.`),
    );
    return () => {
      live = false;
    };
  }, [client, session, generation]);
  return { me, error, reload: () => window.dispatchEvent(new Event(ME_CHANGED)) };
}
