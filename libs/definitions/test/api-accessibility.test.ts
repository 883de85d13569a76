import {
  accessibilityRefusal,
  routeApiOperation,
  validateDefinition,
  type ApiAccess,
  type DefinitionDocumentInput,
  type Endpoint,
} from '../src';

const site: ApiAccess = { accessibility: 'site', site: { connectorId: 'hq', api: 'erp' } };
const internet: ApiAccess = { accessibility: 'internet', internet: { baseUrl: 'https://erp.example.com' } };
const both: ApiAccess = { ...site, ...internet, accessibility: 'both' };
const onHq = { kind: 'site-api', connectorId: 'hq', api: 'erp' };
const inCloud = { kind: 'http', baseUrl: 'https://erp.example.com' };
const siteDb = (connectorId: string): Endpoint => ({ kind: 'site-db', connectorId, database: 'sakila' });
const cloudDb: Endpoint = { kind: 'cloud-db', database: 'dw' };

describe('routeApiOperation: an operation step without an endpoint, by its API’s accessibility (issue 11)', () => {
  it.each([
    ['site', site, cloudDb, onHq, /reachable only on its site, so its agent calls it/],
    ['site', site, siteDb('branch'), onHq, /reachable only on its site/],
    ['site', site, undefined, onHq, /reachable only on its site/],
    ['internet', internet, siteDb('hq'), inCloud, /reachable only from the internet, so the cloud calls it/],
    ['internet', internet, cloudDb, inCloud, /only from the internet/],
    ['both', both, siteDb('hq'), onHq, /other end is on that site, so its agent calls it and data stays there/],
    ['both', both, { kind: 'site-api', connectorId: 'hq', api: 'crm' }, onHq, /data stays there/],
    ['both', both, cloudDb, inCloud, /other end is in the cloud, so the cloud calls it/],
    ['both', both, siteDb('branch'), inCloud, /other end is on another site, so the cloud calls it/],
    ['both', both, undefined, inCloud, /not a data endpoint, so the cloud calls it/],
  ] as const)('%s, other end %j: routed as expected', (_name, access, other, endpoint, reason) => {
    const routed = routeApiOperation('sakila-erp', access, other as Endpoint | undefined);
    expect(routed?.endpoint).toEqual(endpoint);
    expect(routed?.reason).toMatch(reason);
    expect(routed?.reason).toMatch(/^API sakila-erp /);
  });

  it('answers nothing for an accessibility that lacks what it names (registration refuses such)', () => {
    expect(routeApiOperation('x', { accessibility: 'site' }, cloudDb)).toBeUndefined();
    expect(routeApiOperation('x', { accessibility: 'internet' }, cloudDb)).toBeUndefined();
  });

  it('accessibilityRefusal: the placements each accessibility forbids, and only those', () => {
    expect(accessibilityRefusal('a', site, { kind: 'http', baseUrl: 'https://x.example' })).toMatch(
      /reachable only on the site of connector hq: the cloud cannot call it/,
    );
    expect(accessibilityRefusal('a', internet, { kind: 'site-api', connectorId: 'hq', api: 'erp' })).toMatch(
      /reachable only from the internet: no site's agent calls it/,
    );
    expect(accessibilityRefusal('a', both, { kind: 'site-api', connectorId: 'branch', api: 'erp' })).toMatch(
      /reached on the site of connector hq, not of branch/,
    );
    expect(accessibilityRefusal('a', site, { kind: 'site-api', connectorId: 'hq', api: 'erp' })).toBeUndefined();
    expect(accessibilityRefusal('a', both, { kind: 'http', baseUrl: 'https://x.example' })).toBeUndefined();
    expect(accessibilityRefusal('a', internet, { kind: 'http', baseUrl: 'https://x.example' })).toBeUndefined();
  });
});

describe('validation of operation steps against accessibility', () => {
  const pull = (http: Record<string, unknown>): DefinitionDocumentInput => ({
    format: 'vansales.definition/v1',
    name: 'pull',
    steps: [
      { id: 'pull', kind: 'source', http: { path: '/api/customers/active', ...http } } as never,
      {
        id: 'load',
        kind: 'destination',
        db: { endpoint: cloudDb as never, table: { name: 't' }, keyColumns: ['id'] },
      },
    ],
    edges: [{ from: 'pull', to: 'load' }],
  });
  const operation = { apiId: 'sakila-erp', version: 1, key: 'listActiveCustomers' };
  const accessOf = (access: ApiAccess | undefined) => ({ apiAccess: () => access });
  const errors = async (doc: DefinitionDocumentInput, access: ApiAccess | undefined) => {
    const result = await validateDefinition(doc, accessOf(access));
    return result.ok
      ? []
      : result.issues.map((i) => ({ code: i.code, stepId: i.stepId, path: i.path, message: i.message }));
  };

  it('accepts an operation step without an endpoint when its API has an accessibility', async () => {
    for (const access of [site, internet, both]) expect(await errors(pull({ operation }), access)).toEqual([]);
  });

  it('refuses a cloud endpoint for a site-only API, naming the step and the endpoint field', async () => {
    expect(await errors(pull({ operation, endpoint: inCloud }), site)).toEqual([
      {
        code: 'api-accessibility',
        stepId: 'pull',
        path: 'steps[0].http.endpoint',
        message: expect.stringMatching(/^step "pull": API sakila-erp is reachable only on the site of connector hq/),
      },
    ]);
  });

  it('refuses a site endpoint for an internet-only API, or on another connector', async () => {
    expect(await errors(pull({ operation, endpoint: onHq }), internet)).toEqual([
      expect.objectContaining({ code: 'api-accessibility', stepId: 'pull' }),
    ]);
    expect(await errors(pull({ operation, endpoint: { ...onHq, connectorId: 'branch' } }), both)).toEqual([
      expect.objectContaining({ code: 'api-accessibility', message: expect.stringMatching(/not of branch/) }),
    ]);
  });

  it('refuses routing an API with no accessibility recorded; an explicit endpoint is left as before', async () => {
    expect(await errors(pull({ operation }), undefined)).toEqual([
      expect.objectContaining({
        code: 'api-accessibility',
        path: 'steps[0].http.operation',
        message: expect.stringMatching(/has no accessibility recorded, so nothing can route it/),
      }),
    ]);
    expect(await errors(pull({ operation, endpoint: inCloud }), undefined)).toEqual([]);
  });

  it('refuses an HTTP step with neither endpoint nor operation, without any context', async () => {
    const result = await validateDefinition(pull({}), {});
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues).toContainEqual(
      expect.objectContaining({ code: 'http-endpoint-or-operation', stepId: 'pull', path: 'steps[0].http' }),
    );
  });
});
