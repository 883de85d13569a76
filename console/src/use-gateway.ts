'use client';

import { useEffect, useState } from 'react';
import { gatewayClient, type GatewayClient } from './api/client';
import { loadSession } from './session';

/**
 * The gateway client of this tab's session, once the page has read sessionStorage on the client:
 * `connected` is undefined while unknown (first render), false without a session.
 */
export function useGateway(): {
  connected: boolean | undefined;
  client: GatewayClient | undefined;
  gatewayUrl: string;
} {
  const [state, setState] = useState<{ client?: GatewayClient; gatewayUrl: string; connected?: boolean }>({
    gatewayUrl: '',
  });
  useEffect(() => {
    const session = loadSession();
    setState(
      session
        ? { client: gatewayClient(session.gatewayUrl, session.token), gatewayUrl: session.gatewayUrl, connected: true }
        : { gatewayUrl: '', connected: false },
    );
  }, []);
  return { connected: state.connected, client: state.client, gatewayUrl: state.gatewayUrl };
}

/** What a person reads when the gateway did not answer at all (down, or this origin not allowed). */
export const unreachable = (gatewayUrl: string) =>
  `The gateway at ${gatewayUrl} did not answer. Is it running, and does it allow this console's origin?`;
