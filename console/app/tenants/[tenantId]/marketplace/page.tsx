'use client';

import { useParams } from 'next/navigation';
import { useState } from 'react';
import { useConnected } from '../../../../src/gateway-call';
import { BUILT_INS } from '../../../../src/marketplace/built-ins';
import { CustomApiForm } from '../../../../src/marketplace/custom-api-form';
import { SiteInstall } from '../../../../src/marketplace/site-install';
import { NotConnected } from '../../../../src/not-connected';
import { TenantNav } from '../../../../src/tenant-nav';

/** The marketplace: built-in aggregators (site databases, HTTP/OpenAPI APIs) and custom APIs. */
export default function MarketplacePage() {
  const { tenantId } = useParams<{ tenantId: string }>();
  const connected = useConnected();
  const [chosen, setChosen] = useState<string | undefined>(undefined);

  if (connected === undefined) return null;
  if (!connected) return <NotConnected />;
  const aggregator = BUILT_INS.find((b) => b.id === chosen);

  return (
    <>
      <TenantNav tenantId={tenantId} />
      <h1>Marketplace</h1>
      <h2>Built-in aggregators</h2>
      <ul className="cards" aria-label="Built-in aggregators">
        {BUILT_INS.map((b) => (
          <li key={b.id} className="card">
            <h3>{b.title}</h3>
            <p>{b.summary}</p>
            <button type="button" onClick={() => setChosen(b.id)} aria-pressed={chosen === b.id}>
              {b.kind === 'site' ? `Install ${b.title}` : 'Add custom API aggregator'}
            </button>
          </li>
        ))}
      </ul>
      {aggregator?.kind === 'site' && (
        <section aria-labelledby="site-title">
          <h2 id="site-title">Install {aggregator.title} on a site</h2>
          <SiteInstall key={aggregator.id} tenantId={tenantId} aggregator={aggregator} />
        </section>
      )}
      {aggregator?.kind === 'api' && (
        <section aria-labelledby="api-title">
          <h2 id="api-title">Add custom API aggregator</h2>
          <CustomApiForm tenantId={tenantId} />
        </section>
      )}
    </>
  );
}
