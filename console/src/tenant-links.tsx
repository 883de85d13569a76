import Link from 'next/link';

/** The pages of one tenant, for moving between them (a breadcrumb first, then its sections). */
export function TenantLinks({ tenantId, here }: { tenantId: string; here: string }) {
  const pages = [
    { href: `/tenants/${tenantId}`, label: 'Connectors' },
    { href: `/tenants/${tenantId}/runs`, label: 'Runs' },
    { href: `/tenants/${tenantId}/audit`, label: 'Audit' },
  ];
  return (
    <nav aria-label={`Tenant ${tenantId}`} className="tenant-links">
      <Link href="/tenants">Tenants</Link>
      <span aria-hidden="true">/</span>
      <span>{tenantId}</span>
      <span aria-hidden="true">:</span>
      {pages.map((p) =>
        p.label === here ? (
          <span key={p.href} aria-current="page">
            {p.label}
          </span>
        ) : (
          <Link key={p.href} href={p.href}>
            {p.label}
          </Link>
        ),
      )}
    </nav>
  );
}
