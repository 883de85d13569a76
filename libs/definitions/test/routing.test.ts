import { routeStep, type Endpoint, type RoutingContext } from '@vansales/definitions';

const siteDb = (connectorId = 'hq'): Endpoint => ({ kind: 'site-db', connectorId, database: 'erp' });
const siteApi = (connectorId = 'hq'): Endpoint => ({ kind: 'site-api', connectorId, api: 'orders' });
const cloudDb: Endpoint = { kind: 'cloud-db', database: 'warehouse' };
const saas: Endpoint = { kind: 'http', baseUrl: 'https://saas.example.com' };
const internetApi: Endpoint = { kind: 'http', baseUrl: 'https://api.example.org' };

const route = (source: Endpoint, destination: Endpoint, extra: Partial<RoutingContext> = {}) =>
  routeStep({ source, destination, policyProtected: false, ...extra });
const light = { heavy: false, placement: 'auto' } as const;
const heavy = { heavy: true, placement: 'auto' } as const;

describe('routeStep: every row of the decision matrix (issue 10 item 5)', () => {
  it.each([
    ['site DB', 'site DB', siteDb(), siteDb(), { kind: 'site-transfer', connectorId: 'hq' }, 0, 'the site only'],
    ['site DB', 'cloud service', siteDb(), cloudDb, { kind: 'site', connectorId: 'hq' }, 1, 'site -> buffer -> cloud'],
    [
      'site DB',
      'cloud service (API)',
      siteDb(),
      saas,
      { kind: 'site', connectorId: 'hq' },
      1,
      'site -> buffer -> cloud',
    ],
    ['cloud service', 'site DB', saas, siteDb(), { kind: 'site', connectorId: 'hq' }, 1, 'cloud -> buffer -> site'],
    ['cloud service', 'site DB', cloudDb, siteDb(), { kind: 'site', connectorId: 'hq' }, 1, 'cloud -> buffer -> site'],
    ['cloud service', 'cloud service', saas, cloudDb, { kind: 'cloud' }, 0, 'cloud only'],
    [
      'site API',
      'cloud service',
      siteApi(),
      cloudDb,
      { kind: 'site', connectorId: 'hq' },
      1,
      'site -> buffer -> cloud',
    ],
    [
      'cloud service',
      'site API',
      cloudDb,
      siteApi(),
      { kind: 'site', connectorId: 'hq' },
      1,
      'cloud -> buffer -> site',
    ],
    ['internet API', 'cloud service', internetApi, cloudDb, { kind: 'cloud' }, 0, 'cloud only'],
  ])('%s to %s', (_s, _d, source, destination, placement, bufferHops, reason) => {
    const decision = route(source, destination);
    expect(decision).toMatchObject({ placement, bufferHops });
    expect(decision.reason).toContain(reason === 'the site only' ? 'one transfer on the site' : reason);
    expect(decision.transformPlacement).toBeUndefined();
  });

  it('site DB to site DB: the site only, unless a transform must run in the cloud', () => {
    expect(route(siteDb(), siteDb(), { transform: light })).toMatchObject({
      placement: { kind: 'site-transfer', connectorId: 'hq' },
      bufferHops: 0,
      transformPlacement: { kind: 'site', connectorId: 'hq' },
    });
    expect(route(siteDb(), siteDb(), { transform: { heavy: false, placement: 'cloud' } })).toMatchObject({
      placement: { kind: 'cloud' },
      bufferHops: 2,
      transformPlacement: { kind: 'cloud' },
    });
  });
});

describe('routeStep: the factors change the answer', () => {
  it('policy-protected rows keep their transform on the site, even one placed in the cloud or heavy', () => {
    for (const transform of [
      heavy,
      { heavy: false, placement: 'cloud' } as const,
      { heavy: true, placement: 'cloud' } as const,
    ]) {
      const toCloud = route(siteDb(), cloudDb, { transform, policyProtected: true });
      expect(toCloud).toMatchObject({
        placement: { kind: 'site', connectorId: 'hq' },
        transformPlacement: { kind: 'site', connectorId: 'hq' },
      });
      expect(toCloud.reason).toMatch(/policy protects/);
      const sameSite = route(siteDb(), siteDb(), { transform, policyProtected: true });
      expect(sameSite).toMatchObject({ placement: { kind: 'site-transfer', connectorId: 'hq' }, bufferHops: 0 });
    }
  });

  it('a heavy transform goes to the cloud unless policy forbids', () => {
    expect(route(siteDb(), cloudDb, { transform: heavy })).toMatchObject({
      placement: { kind: 'site', connectorId: 'hq' },
      transformPlacement: { kind: 'cloud' },
      bufferHops: 1,
    });
    // Between two tables of one site too: a heavy transform must run in the cloud, so the route leaves the site.
    const sameSite = route(siteDb(), siteDb(), { transform: heavy });
    expect(sameSite).toMatchObject({
      placement: { kind: 'cloud' },
      transformPlacement: { kind: 'cloud' },
      bufferHops: 2,
    });
    expect(sameSite.reason).toMatch(/heavy/);
    expect(route(siteDb(), siteDb(), { transform: heavy, policyProtected: true }).transformPlacement).toEqual({
      kind: 'site',
      connectorId: 'hq',
    });
    // Placed on the site by the author: it stays.
    expect(route(siteDb(), cloudDb, { transform: { heavy: true, placement: 'site' } }).transformPlacement).toEqual({
      kind: 'site',
      connectorId: 'hq',
    });
  });

  it('a light transform keeps data on the site it comes from, and runs in the cloud when data starts there', () => {
    expect(route(siteDb(), cloudDb, { transform: light }).transformPlacement).toEqual({
      kind: 'site',
      connectorId: 'hq',
    });
    expect(route(saas, siteDb(), { transform: light }).transformPlacement).toEqual({ kind: 'cloud' });
    expect(route(saas, cloudDb, { transform: { heavy: false, placement: 'site' } }).transformPlacement).toEqual({
      kind: 'cloud',
    });
    expect(route(saas, siteDb(), { transform: { heavy: false, placement: 'site' } }).transformPlacement).toEqual({
      kind: 'site',
      connectorId: 'hq',
    });
  });

  it('takes the fewest buffer hops: one site to another goes through the buffer once, not through the cloud', () => {
    const decision = route(siteDb('a'), siteDb('b'));
    expect(decision).toMatchObject({ placement: { kind: 'site', connectorId: 'a' }, bufferHops: 1 });
    expect(decision.reason).toContain('site -> buffer -> other site');
    expect(route(siteDb('a'), siteApi('b'), { transform: light }).bufferHops).toBe(1);
    // Only a transform that must run in the cloud adds the second hop.
    expect(route(siteDb('a'), siteDb('b'), { transform: heavy }).bufferHops).toBe(2);
  });

  it('explains every decision in one line naming the pair', () => {
    const endpoints = [siteDb(), siteApi(), cloudDb, saas];
    for (const source of endpoints)
      for (const destination of endpoints)
        for (const transform of [undefined, light, heavy]) {
          const { reason } = route(source, destination, { transform });
          expect(reason).toMatch(/^(site DB|site API|cloud DB|cloud API) to (site DB|site API|cloud DB|cloud API): /);
          expect(reason).not.toContain('\n');
        }
  });
});
