import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import type { AgentErrorType } from '@vansales/protocol';
import { DataflowError, DataflowErrorCode } from '@vansales/dataflow';
import { SitePolicyError, type SiteApiEntry, type SitePolicyFile } from '../policy/site-policy';
import { OperationError } from './operation';

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

/**
 * The site policy file as it is written now. A file the site got wrong refuses the task (with the
 * operation's refusal type) and names what to fix; the agent keeps serving.
 */
export function readPolicyFileOrRefuse(read: () => SitePolicyFile, type: AgentErrorType): SitePolicyFile {
  try {
    return read();
  } catch (err) {
    if (err instanceof SitePolicyError) throw new OperationError(type, err.message, false);
    throw err;
  }
}

/** The URL space of a site policy API: its base URL and its allowed paths as absolute path prefixes under it. */
export function apiScope(api: Pick<SiteApiEntry, 'baseUrl' | 'paths'>): { base: URL; prefixes: string[] } {
  const base = new URL(api.baseUrl);
  const root = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return { base, prefixes: api.paths.map((p) => `${root}${p.replace(/^\/+/, '')}`) };
}
