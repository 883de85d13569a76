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
