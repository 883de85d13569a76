import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { DataflowError, DataflowErrorCode } from '@vansales/dataflow';

/**
 * The address an agent connects to for a host on its site's network, resolved once (the transport
 * pins it): private addresses are the point on a site, so nothing is refused here; the site's rules
 * (its policy's APIs, its allowlist) decide which URLs are asked for at all.
 */
export async function resolveOnSite(hostname: string): Promise<LookupAddress> {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return { address: host, family: isIP(host) };
  try {
    return await lookup(host);
  } catch (err) {
    throw new DataflowError(
      DataflowErrorCode.HTTP_UNAVAILABLE,
      `${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? 'DNS error'})`,
    );
  }
}
