'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { knownTenants, loadSession, rememberTenant } from '../../src/session';
import { NotConnected } from '../../src/not-connected';

// The gateway's TENANT_ID_PATTERN (@vansales/protocol): checked here too so a typo is named before a request.
const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,39}$/;

/** Tenants: the ones opened in this session, and a form to open one by its id. */
export default function TenantsPage() {
  const router = useRouter();
  const [ready, setReady] = useState(false);
  const [connected, setConnected] = useState(false);
  const [tenants, setTenants] = useState<string[]>([]);
  const [tenantId, setTenantId] = useState('');
  const [error, setError] = useState('');

  useEffect(() => {
    setConnected(!!loadSession());
    setTenants(knownTenants());
    setReady(true);
  }, []);

  if (!ready) return null;
  if (!connected) return <NotConnected />;

  const open = (event: FormEvent) => {
    event.preventDefault();
    const id = tenantId.trim();
    if (!TENANT_ID.test(id)) {
      setError('A tenant id is 2 to 40 lower-case letters, digits and dashes (for example acme)');
      return;
    }
    rememberTenant(id);
    router.push(`/tenants/${encodeURIComponent(id)}`);
  };

  return (
    <>
      <h1>Tenants</h1>
      {tenants.length > 0 ? (
        <ul aria-label="Tenants opened in this session">
          {tenants.map((t) => (
            <li key={t}>
              <Link href={`/tenants/${encodeURIComponent(t)}`}>{t}</Link>
            </li>
          ))}
        </ul>
      ) : (
        <p>No tenant opened yet in this session.</p>
      )}
      <h2>Open a tenant</h2>
      <form onSubmit={open} noValidate>
        <label>
          Tenant id
          <input name="tenantId" value={tenantId} onChange={(e) => setTenantId(e.target.value)} required />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit">Open</button>
      </form>
    </>
  );
}
