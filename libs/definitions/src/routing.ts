import type { ApiAccess, Endpoint, HttpEndpoint, Placement, RouteDecision } from './model';

/**
 * Item 5: where a move of data runs, as one pure function of its source, destination, the site
 * policy and the weight of the transform between them. The decision matrix of the design:
 *
 * | source        | destination   | route                                                  |
 * | site DB       | site DB       | the site only, unless a transform must run in the cloud |
 * | site DB       | cloud service | site -> buffer -> cloud                                |
 * | cloud service | site DB       | cloud -> buffer -> site                                |
 * | cloud service | cloud service | cloud only                                             |
 * | site API      | cloud service | site -> buffer -> cloud                                |
 * | cloud service | site API      | cloud -> buffer -> site                                |
 * | internet API  | cloud service | cloud only                                             |
 *
 * And its factors, in order: rows the site's policy protects never leave the site untransformed
 * (their transform runs there); a heavy transform runs in the cloud unless that policy forbids it;
 * otherwise data stays on the site when it can; and among the rest, the route with the fewest
 * buffer hops (a hop: data written to the buffer by one place and read by another).
 */
export interface RoutingContext {
  source: Endpoint;
  destination: Endpoint;
  /** The transforms between them, if any: `heavy` ones (join, aggregate, sort, script) prefer the cloud. */
  transform?: { heavy: boolean; placement: 'auto' | 'site' | 'cloud' };
  /** The site's policy protects some of the rows or columns read (masked, hashed, dropped): they stay on the site. */
  policyProtected: boolean;
}

const siteOf = (e: Endpoint): string | undefined =>
  e.kind === 'site-db' || e.kind === 'site-api' ? e.connectorId : undefined;
const LABEL = { 'site-db': 'site DB', 'site-api': 'site API', 'cloud-db': 'cloud DB', http: 'cloud API' } as const;

/** Where the transform runs, and why (a clause of the reason). */
function transformSite(ctx: RoutingContext, from?: string, to?: string): { at: Placement; why: string } | undefined {
  const t = ctx.transform;
  if (!t) return undefined;
  const site = from ?? to;
  if (!site) return { at: { kind: 'cloud' }, why: 'the transform runs in the cloud (no site is involved)' };
  // Policy-protected rows come from the source site: they are transformed there, whatever was asked.
  if (from && ctx.policyProtected)
    return {
      at: { kind: 'site', connectorId: from },
      why: `the transform runs on the site: its policy protects rows read${t.placement === 'cloud' || t.heavy ? ', so it does not run in the cloud' : ''}`,
    };
  if (t.placement === 'cloud') return { at: { kind: 'cloud' }, why: 'the transform is placed in the cloud' };
  if (t.placement === 'site')
    return { at: { kind: 'site', connectorId: site }, why: 'the transform is placed on the site' };
  if (t.heavy) return { at: { kind: 'cloud' }, why: 'the transform is heavy, so it runs in the cloud' };
  if (!from) return { at: { kind: 'cloud' }, why: 'the data starts in the cloud, so the transform runs there' };
  return {
    at: { kind: 'site', connectorId: site },
    why: 'the transform is light, so it runs on the site and data stays there',
  };
}

export function routeStep(ctx: RoutingContext): RouteDecision {
  const from = siteOf(ctx.source);
  const to = siteOf(ctx.destination);
  const pair = `${LABEL[ctx.source.kind]} to ${LABEL[ctx.destination.kind]}`;
  const transform = transformSite(ctx, from, to);
  const inCloud = transform?.at.kind === 'cloud';
  const tail = transform ? `; ${transform.why}` : '';
  const decide = (placement: Placement, bufferHops: number, route: string): RouteDecision => ({
    placement,
    bufferHops,
    reason: `${pair}: ${route}${tail}`,
    ...(transform ? { transformPlacement: transform.at } : {}),
  });

  if (from && to) {
    if (inCloud) return decide({ kind: 'cloud' }, 2, 'site -> buffer -> cloud transform -> buffer -> site');
    if (from === to)
      return decide(
        { kind: 'site-transfer', connectorId: from },
        0,
        'the site only: one transfer on the site, nothing crosses the socket or lands in the buffer',
      );
    // Two sites: the destination's agent reads the object the source's agent wrote; the cloud only relays it.
    return decide({ kind: 'site', connectorId: from }, 1, 'site -> buffer -> other site');
  }
  if (from) return decide({ kind: 'site', connectorId: from }, 1, 'site -> buffer -> cloud');
  if (to) return decide({ kind: 'site', connectorId: to }, 1, 'cloud -> buffer -> site');
  return decide({ kind: 'cloud' }, 0, 'cloud only');
}

/**
 * Issue 11 items 3 and 6: where an HTTP step that names an API operation and no endpoint calls it,
 * from the API's accessibility (registered with the API) and the step's other end:
 *
 * | accessibility | the step's other end                        | called by                     |
 * | site          | anything                                    | that site's agent             |
 * | internet      | anything                                    | the cloud worker              |
 * | both          | on the API's site (a site DB or API there)  | that site's agent (data stays) |
 * | both          | in the cloud, on another site, or none      | the cloud worker              |
 *
 * "both" follows routeStep's factors: data stays on the site when it can; otherwise the cloud, which
 * costs no more buffer hops (the other site's agent or the cloud loads from the buffer alike).
 * Undefined when the accessibility lacks what it names (checked at registration, so never in practice).
 */
export function routeApiOperation(
  apiId: string,
  access: ApiAccess,
  other: Endpoint | undefined,
): { endpoint: HttpEndpoint; reason: string } | undefined {
  const onSite = access.site && {
    kind: 'site-api' as const,
    connectorId: access.site.connectorId,
    api: access.site.api,
  };
  const inCloud = access.internet && { kind: 'http' as const, baseUrl: access.internet.baseUrl };
  const otherSite = other ? siteOf(other) : undefined;
  switch (access.accessibility) {
    case 'site':
      return (
        onSite && { endpoint: onSite, reason: `API ${apiId} is reachable only on its site, so its agent calls it` }
      );
    case 'internet':
      return (
        inCloud && {
          endpoint: inCloud,
          reason: `API ${apiId} is reachable only from the internet, so the cloud calls it`,
        }
      );
    case 'both':
      if (onSite && otherSite === onSite.connectorId)
        return {
          endpoint: onSite,
          reason: `API ${apiId} is reachable on its site and from the internet; the step's other end is on that site, so its agent calls it and data stays there`,
        };
      return (
        inCloud && {
          endpoint: inCloud,
          reason: `API ${apiId} is reachable on its site and from the internet; the step's other end is ${other ? (otherSite ? 'on another site' : 'in the cloud') : 'not a data endpoint'}, so the cloud calls it`,
        }
      );
  }
}

/**
 * Whether an explicit endpoint reaches an API of this accessibility: the error's sentence when it
 * does not (a cloud endpoint for a site-only API, a site endpoint for an internet-only one or on
 * another connector), undefined when it does.
 */
export function accessibilityRefusal(apiId: string, access: ApiAccess, endpoint: HttpEndpoint): string | undefined {
  if (endpoint.kind === 'http' && access.accessibility === 'site')
    return `API ${apiId} is reachable only on the site of connector ${access.site?.connectorId ?? '?'}: the cloud cannot call it; leave the endpoint out (its agent is picked) or give a site-api endpoint on that connector`;
  if (endpoint.kind === 'site-api' && access.accessibility === 'internet')
    return `API ${apiId} is reachable only from the internet: no site's agent calls it; leave the endpoint out (the cloud is picked) or give an http endpoint`;
  if (endpoint.kind === 'site-api' && access.site && endpoint.connectorId !== access.site.connectorId)
    return `API ${apiId} is reached on the site of connector ${access.site.connectorId}, not of ${endpoint.connectorId}: leave the endpoint out, or name that connector`;
  return undefined;
}
