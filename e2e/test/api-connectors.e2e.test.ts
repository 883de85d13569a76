import { DEFINITION_FORMAT } from '@vansales/definitions';
import { sakilaReader, services, startPlatform, type Platform } from './support/harness';
import { startSakilaUserApi, type SakilaUserApi } from './support/sakila-user-api';

/**
 * API connectors through REST (issue 11 items 1, 4 and 6): the seed's Mode 2 API is registered from
 * its own OpenAPI document, its operations listed; a definition step pins one of them; the API's
 * owner then changes it, and the new version is flagged as breaking with the definition and step
 * named, while the definition keeps its pinned version.
 */
interface Registered {
  apiId: string;
  version: number;
  created: boolean;
  operationCount: number;
  changesFromPrevious?: {
    breaking: boolean;
    affectedOperations: string[];
    changes: { id: string; level: string; operationKey?: string }[];
    definitions: {
      definitionId: string;
      version: number;
      steps: { stepId: string; operationKey: string; pinnedVersion: number }[];
    }[];
  };
}

describe('API connectors (REST, real services)', () => {
  let platform: Platform;
  let erp: SakilaUserApi;
  const A = '/v1/tenants/apis-a';
  const B = '/v1/tenants/apis-b';

  const specText = async () => (await fetch(`${erp.url}/openapi.json`)).text();
  const register = (tenant: string, text: string, apiId = 'sakila-erp') =>
    platform.api<Registered>('POST', `${tenant}/apis/${apiId}/versions`, { name: 'Sakila ERP', spec: { text } });

  beforeAll(async () => {
    // The stand-in API listens on loopback: the gateway may fetch from private addresses in this test only.
    platform = await startPlatform({ gateway: { VSC_SPEC_FETCH_ALLOW_PRIVATE: 'true' } });
    for (const id of ['apis-a', 'apis-b'])
      expect((await platform.api('POST', '/v1/tenants', { id, name: id })).status).toBe(201);
    erp = await startSakilaUserApi({
      database: { ...services.mariadb, ...(await sakilaReader()) },
      apiKey: 'erp-key-0123456789',
    });
  });
  afterAll(async () => {
    await erp?.close();
    await platform?.close();
  });

  it('registers the API from its document and lists its operations; the same document again is the same version', async () => {
    const first = await register(A, await specText());
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ apiId: 'sakila-erp', version: 1, created: true, operationCount: 2 });
    const again = await register(A, await specText());
    expect(again.body).toMatchObject({ version: 1, created: false });

    const ops = await platform.api<{
      operations: { key: string; method: string; path: string; parameters: { name: string; required: boolean }[] }[];
    }>('GET', `${A}/apis/sakila-erp/versions/1/operations`);
    expect(ops.status).toBe(200);
    expect(ops.body.operations.map((o) => `${o.key} ${o.method} ${o.path}`)).toEqual([
      'listActiveCustomers get /api/customers/active',
      'getSalesSummary get /api/sales/summary',
    ]);
    expect(ops.body.operations[0]?.parameters).toContainEqual({ name: 'store_id', in: 'query', required: false });
  });

  it('flags the owner’s change as breaking and names the definition step that must change', async () => {
    // A definition whose source step calls listActiveCustomers of version 1.
    const saved = await platform.api('POST', `${A}/definitions`, {
      id: 'erp-customers',
      document: {
        format: DEFINITION_FORMAT,
        name: 'ERP customers to the warehouse',
        steps: [
          {
            id: 'pull',
            kind: 'source',
            http: {
              endpoint: { kind: 'http', baseUrl: erp.url },
              path: '/api/customers/active',
              records: 'data',
              pagination: { kind: 'cursor', next: 'next_cursor', param: 'cursor' },
              operation: { apiId: 'sakila-erp', version: 1, key: 'listActiveCustomers' },
            },
          },
          {
            id: 'load',
            kind: 'destination',
            db: {
              endpoint: { kind: 'cloud-db', database: 'warehouse' },
              table: { name: 'erp_customers' },
              keyColumns: ['customer_id'],
            },
          },
        ],
        edges: [{ from: 'pull', to: 'load' }],
      },
    });
    expect(saved.status).toBe(201);

    erp.setVersion(2);
    const second = await register(A, await specText());
    expect(second.status).toBe(200);
    const report = second.body.changesFromPrevious;
    expect(second.body).toMatchObject({ version: 2, created: true, operationCount: 1 });
    expect(report?.breaking).toBe(true);
    expect(report?.affectedOperations).toEqual(['getSalesSummary', 'listActiveCustomers']);
    expect(
      report?.changes
        .filter((c) => c.level === 'error')
        .map((c) => c.operationKey)
        .sort(),
    ).toEqual(['getSalesSummary', 'listActiveCustomers']);
    expect(report?.definitions).toEqual([
      expect.objectContaining({
        definitionId: 'erp-customers',
        version: 1,
        steps: [expect.objectContaining({ stepId: 'pull', operationKey: 'listActiveCustomers', pinnedVersion: 1 })],
      }),
    ]);

    const impact = await platform.api<{
      definitions: { definitionId: string; mustChange: { stepId: string }[]; canUpgrade: unknown[] }[];
    }>('GET', `${A}/apis/sakila-erp/versions/2/upgrade-impact`);
    expect(impact.body.definitions).toEqual([
      expect.objectContaining({
        definitionId: 'erp-customers',
        mustChange: [expect.objectContaining({ stepId: 'pull' })],
        canUpgrade: [],
      }),
    ]);
    // The definition still pins version 1: nothing was rewritten.
    const def = await platform.api<{ document: { steps: { http?: { operation?: { version: number } } }[] } }>(
      'GET',
      `${A}/definitions/erp-customers/versions/1`,
    );
    expect(def.body.document.steps[0]?.http?.operation?.version).toBe(1);
    const versions = await platform.api<{ version: number }[]>('GET', `${A}/apis/sakila-erp/versions`);
    expect(versions.body.map((v) => v.version)).toEqual([1, 2]);
  });

  it('refuses a definition step that names an operation the registry does not have', async () => {
    const step = (key: string, version: number) => ({
      id: 'pull',
      kind: 'source',
      http: {
        endpoint: { kind: 'http', baseUrl: erp.url },
        path: '/api/customers/active',
        operation: { apiId: 'sakila-erp', version, key },
      },
    });
    const save = (id: string, key: string, version: number, tenant = A) =>
      platform.api<{ error: { code: string; issues: { stepId: string; code: string; message: string }[] } }>(
        'POST',
        `${tenant}/definitions`,
        { id, document: { format: DEFINITION_FORMAT, name: id, steps: [step(key, version)], edges: [] } },
      );
    const unknownKey = await save('erp-bad-key', 'deleteEverything', 1);
    expect(unknownKey.status).toBe(422);
    expect(unknownKey.body.error.issues).toEqual([
      expect.objectContaining({
        stepId: 'pull',
        code: 'unknown-api-operation',
        message: expect.stringContaining('deleteEverything'),
      }),
    ]);
    const unknownVersion = await save('erp-bad-version', 'listActiveCustomers', 99);
    expect(unknownVersion.body.error.issues[0]?.message).toContain('version 99');
    // Another tenant's API is not this tenant's.
    const otherTenant = await save('erp-other', 'listActiveCustomers', 1, B);
    expect(otherTenant.body.error.issues[0]?.message).toContain('has not registered');
  });

  it('fetches a specification by URL through the egress guard', async () => {
    const port = new URL(erp.url).port;
    erp.setVersion(1);
    try {
      const byUrl = await platform.api<Registered>('POST', `${A}/apis/erp-by-url/versions`, {
        spec: { url: `http://localhost:${port}/openapi.json` },
      });
      expect(byUrl.status).toBe(200);
      expect(byUrl.body).toMatchObject({ version: 1, created: true, operationCount: 2 });
      expect(erp.log.at(-1)).toMatchObject({ method: 'GET', path: '/openapi.json', status: 200 });
    } finally {
      erp.setVersion(2);
    }
    const refused = async (url: string) =>
      platform.api<{ error: { message: string } }>('POST', `${A}/apis/erp-refused/versions`, { spec: { url } });
    // An IP literal, the cloud metadata address, credentials in the URL, a missing document: each a 400 that says why.
    const literal = await refused(`http://127.0.0.1:${port}/openapi.json`);
    expect(literal.status).toBe(400);
    expect(literal.body.error.message).toMatch(/^could not fetch the specification: /);
    expect((await refused('http://169.254.169.254/latest/meta-data')).status).toBe(400);
    expect((await refused(`http://user:pw@localhost:${port}/openapi.json`)).body.error.message).toContain(
      'must not carry credentials',
    );
    expect((await refused(`http://localhost:${port}/nope.json`)).body.error.message).toContain('HTTP 401');
    expect((await platform.api('GET', `${A}/apis/erp-refused/versions`)).status).toBe(404);
  });

  it('keeps tenants apart', async () => {
    expect((await platform.api('GET', `${B}/apis/sakila-erp/versions`)).status).toBe(404);
    expect((await platform.api('GET', `${B}/apis/sakila-erp/versions/1/operations`)).status).toBe(404);
    expect((await platform.api('GET', `${B}/apis`)).body).toEqual([]);
  });

  it('refuses a broken or hostile document with every problem named, and keeps serving', async () => {
    const broken = await platform.api<{ error: { code: string; specError: string; problems: { pointer: string }[] } }>(
      'POST',
      `${A}/apis/broken/versions`,
      {
        spec: {
          text: JSON.stringify({
            openapi: '3.0.3',
            info: { title: 'x', version: '1' },
            paths: { '/a/{id}': { get: { responses: {} } } },
          }),
        },
      },
    );
    expect(broken.status).toBe(400);
    expect(broken.body.error.specError).toBe('SPEC_INVALID');
    expect(broken.body.error.problems.map((p) => p.pointer)).toEqual(
      expect.arrayContaining(['/paths/~1a~1{id}/get/parameters']),
    );
    // A YAML alias bomb: refused by its bound, not expanded.
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const hostile = await platform.api<{ error: { specError: string } }>('POST', `${A}/apis/bomb/versions`, {
      spec: { text: `openapi: 3.0.3\n${bomb.join('\n')}\n` },
    });
    expect(hostile.status).toBe(400);
    expect(hostile.body.error.specError).toBe('SPEC_LIMIT_EXCEEDED');
    expect((await platform.api('GET', `${A}/apis`)).status).toBe(200);
    expect((await platform.api('POST', `${A}/apis/Bad_Id/versions`, { spec: { text: '{}' } })).status).toBe(400);
  });
});
