'use client';

import { useCallback, useEffect, useState } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';

export type Connector =
  paths['/v1/tenants/{tenantId}/connectors']['get']['responses']['200']['content']['application/json'][number];

/** How often the status is read again: "live" without a socket of its own (the gateway has no event stream yet). */
export const REFRESH_MS = 5_000;

/** A tenant's connectors, read again every `everyMs` while the page shows them. */
export function useConnectors(tenantId: string, everyMs = REFRESH_MS, enabled = true) {
  const [connectors, setConnectors] = useState<Connector[] | undefined>(undefined);
  const [error, setError] = useState('');
  const [checkedAt, setCheckedAt] = useState<Date | undefined>(undefined);

  const refresh = useCallback(async () => {
    const out = await callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors', { params: { path: { tenantId } } }),
    );
    if (!out.ok) return setError(out.message);
    setConnectors(out.data);
    setError('');
    setCheckedAt(new Date());
  }, [tenantId]);

  useEffect(() => {
    if (!enabled) return;
    void refresh();
    const timer = setInterval(() => void refresh(), everyMs);
    return () => clearInterval(timer);
  }, [refresh, everyMs, enabled]);

  return { connectors, error, checkedAt, refresh };
}

/** "Online", or when it was last seen, in the reader's locale. */
export function lastSeenText(c: Pick<Connector, 'online' | 'lastSeenAt'>): string {
  if (c.online) return 'now';
  return c.lastSeenAt ? new Date(c.lastSeenAt).toLocaleString() : 'never';
}
