'use client';

import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { signOut } from './sign-out';
import { useConnection, useMe } from './use-connection';

/** The header: the tenant switcher (the person's memberships from GET /v1/me) and signing out. */
export function NavBar() {
  const router = useRouter();
  const params = useParams<{ tenantId?: string }>();
  const connection = useConnection();
  const { me } = useMe(connection);
  const current = params?.tenantId ?? '';
  const tenants = me?.memberships ?? [];

  return (
    <header>
      <nav aria-label="Main">
        <span className="brand">Vansales Connect</span>
        {connection.session && (
          <>
            <Link href="/tenants">Tenants</Link>
            {tenants.length > 0 && (
              <span className="inline">
                <label htmlFor="tenant-switcher">Tenant</label>
                <select
                  id="tenant-switcher"
                  value={tenants.some((t) => t.tenantId === current) ? current : ''}
                  onChange={(e) => e.target.value && router.push(`/tenants/${encodeURIComponent(e.target.value)}`)}
                >
                  <option value="">Choose a tenant</option>
                  {tenants.map((t) => (
                    <option key={t.tenantId} value={t.tenantId}>
                      {t.tenantId} ({t.role})
                    </option>
                  ))}
                </select>
              </span>
            )}
            <span className="hint">{connection.session.email ?? 'API token'}</span>
            <button
              type="button"
              onClick={() => {
                void signOut(connection).then(() => router.push('/'));
              }}
            >
              Sign out
            </button>
          </>
        )}
      </nav>
    </header>
  );
}
