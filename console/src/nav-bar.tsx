'use client';

import Link from 'next/link';

export function NavBar() {
  return (
    <header>
      <nav aria-label="Main">
        <span className="brand">Vansales Connect</span>
        <Link href="/">Connect</Link>
        <Link href="/tenants">Tenants</Link>
      </nav>
    </header>
  );
}
