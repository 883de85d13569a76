import type { Endpoint, RouteDecision } from './model';

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

export function routeStep(ctx: RoutingContext): RouteDecision {
  const from = siteOf(ctx.source);
  const to = siteOf(ctx.destination);
  const label = (e: Endpoint) =>
    ({ 'site-db': 'site DB', 'site-api': 'site API', 'cloud-db': 'cloud DB', http: 'cloud API' })[e.kind];
  const pair = `${label(ctx.source)} to ${label(ctx.destination)}`;
  if (from && to && from === to) {
    const cloudTransform = ctx.transform?.placement === 'cloud' && !ctx.policyProtected;
    if (!cloudTransform)
      return {
        placement: { kind: 'site-transfer', connectorId: from },
        bufferHops: 0,
        reason: `${pair} on one site: one transfer on the site, nothing crosses the socket`,
      };
    return {
      placement: { kind: 'cloud' },
      bufferHops: 2,
      reason: `${pair} on one site with a transform placed in the cloud: site -> buffer -> cloud transform -> buffer -> site`,
    };
  }
  if (from)
    return {
      placement: { kind: 'site', connectorId: from },
      bufferHops: to ? 2 : 1,
      reason: `${pair}: site -> buffer -> ${to ? 'cloud -> buffer -> site' : 'cloud'}`,
    };
  if (to)
    return { placement: { kind: 'site', connectorId: to }, bufferHops: 1, reason: `${pair}: cloud -> buffer -> site` };
  return { placement: { kind: 'cloud' }, bufferHops: 0, reason: `${pair}: cloud only` };
}
