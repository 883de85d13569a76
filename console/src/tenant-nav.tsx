<<<<<<< HEAD
import Link from 'next/link';

/** The tenant's breadcrumb and its pages; `current` is marked for screen readers. */
export function TenantNav({ tenantId, current }: { tenantId: string; current: 'connectors' | 'marketplace' }) {
  const base = `/tenants/${encodeURIComponent(tenantId)}`;
  return (
    <nav aria-label="Tenant" className="tenant-nav">
      <Link href="/tenants">Tenants</Link> / <strong>{tenantId}</strong>:{' '}
      <Link href={base} aria-current={current === 'connectors' ? 'page' : undefined}>
        Connectors
      </Link>{' '}
      <Link href={`${base}/marketplace`} aria-current={current === 'marketplace' ? 'page' : undefined}>
        Marketplace
      </Link>
    </nav>
  );
}

/** An error a person can act on, announced to screen readers. */
export function ErrorLine({ message, id }: { message: string; id?: string }) {
  if (!message) return null;
  return (
    <p role="alert" className="error" id={id}>
      {message}
    </p>
  );
}
=======
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
>>>>>>> i16-cpeople
