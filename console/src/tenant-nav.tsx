'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';

/** A tenant's pages, with the one shown marked for screen readers (aria-current). */
export function TenantNav({ tenantId }: { tenantId: string }) {
  const pathname = usePathname();
  const base = `/tenants/${encodeURIComponent(tenantId)}`;
  const pages = [
    { href: base, label: 'Connectors' },
    { href: `${base}/members`, label: 'Members' },
    { href: `${base}/tokens`, label: 'Tokens' },
  ];
  return (
    <nav aria-label={`Tenant ${tenantId}`} className="tenant-nav">
      <Link href="/tenants">Tenants</Link> / <strong>{tenantId}</strong>
      {pages.map((p) => (
        <Link key={p.href} href={p.href} aria-current={pathname === p.href ? 'page' : undefined}>
          {p.label}
        </Link>
      ))}
    </nav>
  );
}
