'use client';

import { useCallback, useEffect, useState } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';

export type Approval =
  paths['/v1/tenants/{tenantId}/agent-version']['get']['responses']['200']['content']['application/json'];
type Member =
  paths['/v1/tenants/{tenantId}/members']['get']['responses']['200']['content']['application/json']['members'][number];
export type PublishedRelease =
  paths['/v1/tenants/{tenantId}/agent-releases']['get']['responses']['200']['content']['application/json']['releases'][number];

/** The tenant's approved agent version and the releases it could approve, read again by `reload`. */
export function useAgentUpdates(tenantId: string, enabled: boolean) {
  const [approval, setApproval] = useState<Approval | undefined>(undefined);
  const [releases, setReleases] = useState<PublishedRelease[] | undefined>(undefined);
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState('');

  const reload = useCallback(async () => {
    const path = { params: { path: { tenantId } } };
    const [approved, published, people] = await Promise.all([
      callGateway((c) => c.GET('/v1/tenants/{tenantId}/agent-version', path)),
      callGateway((c) => c.GET('/v1/tenants/{tenantId}/agent-releases', path)),
      // Only to name who approved: without it the page still works (the gateway's actor id is shown).
      callGateway((c) => c.GET('/v1/tenants/{tenantId}/members', path)),
    ]);
    if (people.ok) setMembers(people.data.members);
    if (!approved.ok) return setError(approved.message);
    if (!published.ok) return setError(published.message);
    setApproval(approved.data);
    setReleases(published.data.releases);
    setError('');
  }, [tenantId]);

  useEffect(() => {
    if (enabled) void reload();
  }, [reload, enabled]);

  return { approval, releases, members, error, reload, setApproval };
}
