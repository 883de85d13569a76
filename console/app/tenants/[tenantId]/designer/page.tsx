'use client';

import { ReactFlowProvider } from '@xyflow/react';
import { useParams } from 'next/navigation';
import { useEffect, useState } from 'react';
import { loadSession, type Session } from '../../../../src/session';
import { NotConnected } from '../../../../src/not-connected';
import { Designer } from '../../../../src/designer/designer';
import { TenantNav } from '../../../../src/tenant-nav';

/** The designer of a tenant's definitions: draw, configure, validate, save, compare, publish, run. */
export default function DesignerPage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => setSession(loadSession() ?? null), []);
  if (session === undefined) return null;
  if (session === null) return <NotConnected />;
  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Designer</h1>
      <ReactFlowProvider>
        <Designer session={session} tenantId={tenantId} />
      </ReactFlowProvider>
    </>
  );
}
