'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

/** A tenant's pages; `also` are the paths (below the tenant) whose pages belong to that entry. */
const PAGES: { path: string; label: string; also?: string[] }[] = [
  { path: '', label: 'Connectors', also: ['/connectors/'] },
  { path: '/marketplace', label: 'Marketplace' },
  { path: '/designer', label: 'Designer' },
  { path: '/runs', label: 'Runs', also: ['/definitions/'] },
  { path: '/audit', label: 'Audit' },
  { path: '/members', label: 'Members' },
  { path: '/tokens', label: 'Tokens' },
  { path: '/agent-updates', label: 'Agent updates' },
];

/** A tenant's pages, with the one shown marked for screen readers (aria-current). */
export function TenantNav({ tenantId }: { tenantId: string }) {
  const pathname = usePathname();
  const base = `/tenants/${encodeURIComponent(tenantId)}`;
  const below = pathname.startsWith(base) ? pathname.slice(base.length) : undefined;
  const isCurrent = (page: (typeof PAGES)[number]) =>
    below !== undefined &&
    (below === page.path ||
      (page.path !== '' && below.startsWith(`${page.path}/`)) ||
      !!page.also?.some((prefix) => below.startsWith(prefix)));
  return (
    <nav aria-label={`Tenant ${tenantId}`} className="tenant-nav">
      <Link href="/tenants">Tenants</Link> / <strong>{tenantId}</strong>
      {PAGES.map((page) => (
        <Link key={page.label} href={`${base}${page.path}`} aria-current={isCurrent(page) ? 'page' : undefined}>
          {page.label}
        </Link>
      ))}
    </nav>
  );
}
