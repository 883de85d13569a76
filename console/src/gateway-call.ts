'use client';

import { useEffect, useState } from 'react';
import { describeFailure, gatewayClient, type GatewayClient } from './api/client';
import { loadSession } from './session';

/** A call's outcome for a page: the data, or a sentence a person can act on (and the error body, for details). */
export type Outcome<T> = { ok: true; data: T } | { ok: false; message: string; body?: unknown };

/**
 * One typed call to the connected gateway (the generated client: never a hand-written fetch). A
 * gateway that does not answer becomes a sentence too, naming the usual causes.
 */
export async function callGateway<T>(
  call: (client: GatewayClient) => Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Outcome<T>> {
  const session = loadSession();
  if (!session) return { ok: false, message: 'Not connected: connect to a gateway first.' };
  try {
    const { data, error, response } = await call(gatewayClient(session.gatewayUrl, session.token));
    if (response.ok && data !== undefined) return { ok: true, data };
    return { ok: false, message: describeFailure(response.status, error), body: error };
  } catch {
    return {
      ok: false,
      message: `The gateway at ${session.gatewayUrl} did not answer. Is it running, and does it allow this console's origin?`,
    };
  }
}

/** Whether this tab is connected to a gateway: undefined until read (sessionStorage exists only in the browser). */
export function useConnected(): boolean | undefined {
  const [connected, setConnected] = useState<boolean | undefined>(undefined);
  useEffect(() => setConnected(!!loadSession()), []);
  return connected;
}

/** The gateway's agent endpoint for the connected gateway (what `mini-connector init --gateway-url` takes). */
export function agentEndpoint(): string {
  const session = loadSession();
  if (!session) return 'wss://<gateway>/v1/agent/connect';
  const url = new URL(session.gatewayUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/v1/agent/connect';
  return url.toString();
}
