import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publishDefinition, PublishError } from '@vansales/definitions/builder';
import { startPlatform, type Platform } from './support/harness';

/** Definitions through REST (issue 10 item 1): validate, create, version, diff, publish, archive, tenant isolation. */
type Issue = { stepId?: string; path: string; code: string; message: string; severity: string };

const films = (connectorId: string, table = 'film') => ({
  format: 'vansales.definition/v1',
  name: `${table}s to the warehouse`,
  steps: [
    {
      id: 'extract',
      kind: 'source',
      db: { endpoint: { kind: 'site-db', connectorId, database: 'sakila' }, table: { name: table } },
    },
    {
      id: 'load',
      kind: 'destination',
      db: { endpoint: { kind: 'cloud-db', database: 'warehouse' }, table: { name: table }, keyColumns: ['id'] },
    },
  ],
  edges: [{ from: 'extract', to: 'load' }],
});

/** Five problems at once: a bad field, a dangling edge, a cycle, a then-edge from a non-branch, an unknown connector. */
const broken = {
  format: 'vansales.definition/v1',
  name: 'broken',
  steps: [
    {
      id: 'extract',
      kind: 'source',
      db: { endpoint: { kind: 'site-db', connectorId: 'no-such-connector', database: 'x' }, table: { name: 't' } },
    },
    { id: 'a', kind: 'transform', transform: { op: 'filter', where: 'true' } },
    { id: 'b', kind: 'transform', transform: { op: 'filter', where: 'true' } },
    { id: 'load', kind: 'destination', db: { endpoint: { kind: 'cloud-db', database: 'w' }, table: { name: 't' } } },
  ],
  edges: [
    { from: 'extract', to: 'a', when: 'then' },
    { from: 'a', to: 'b' },
    { from: 'b', to: 'a' },
    { from: 'b', to: 'nowhere' },
    { from: 'a', to: 'load' },
  ],
};

describe('definitions REST (real services)', () => {
  let platform: Platform;
  let connectorA: string;
  const A = '/v1/tenants/def-a/definitions';
  const B = '/v1/tenants/def-b/definitions';

  beforeAll(async () => {
    platform = await startPlatform();
    for (const id of ['def-a', 'def-b'])
      expect((await platform.api('POST', '/v1/tenants', { id, name: id })).status).toBe(201);
    const created = await platform.api<{ id: string }>('POST', '/v1/tenants/def-a/connectors', { name: 'hq' });
    connectorA = created.body.id;
  });
  afterAll(async () => platform?.close());

  it('validates without saving, reporting every issue with its step and path', async () => {
    const res = await platform.api<{ ok: boolean; issues: Issue[] }>('POST', `${A}/validate`, { document: broken });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    const codes = new Set(res.body.issues.map((i) => i.code));
    for (const code of ['invalid-field', 'dangling-edge', 'cycle', 'branch-edge-not-from-branch', 'unknown-connector'])
      expect(codes).toContain(code);
    expect(res.body.issues).toContainEqual(
      expect.objectContaining({ stepId: 'load', path: 'steps[3].db.keyColumns', code: 'invalid-field' }),
    );
    expect(res.body.issues).toContainEqual(
      expect.objectContaining({
        stepId: 'extract',
        path: 'steps[0].db.endpoint.connectorId',
        code: 'unknown-connector',
      }),
    );
    expect((await platform.api<unknown[]>('GET', A)).body).toEqual([]);
  });

  it('refuses to create an invalid definition with 422 and all its issues', async () => {
    const res = await platform.api<{ error: { code: string; issues: Issue[] } }>('POST', A, {
      id: 'broken',
      document: broken,
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('INVALID_DEFINITION');
    expect(res.body.error.issues.length).toBeGreaterThanOrEqual(5);
    expect((await platform.api('GET', `${A}/broken`)).status).toBe(404);
  });

  it('creates, versions (same content, same version), diffs, publishes and archives', async () => {
    const created = await platform.api<{
      definition: { latestVersion: number };
      version: { version: number; hash: string };
    }>('POST', A, { id: 'films', document: films(connectorA) });
    expect(created.status).toBe(201);
    expect(created.body.version).toMatchObject({ version: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await platform.api('POST', A, { id: 'films', document: films(connectorA) })).status).toBe(409);

    // The same content, keys in another order: the existing version, 200 not 201.
    const { steps, edges, format, name } = films(connectorA);
    const same = await platform.api<{ created: boolean; version: { version: number } }>('POST', `${A}/films/versions`, {
      document: { edges, steps, name, format },
    });
    expect(same).toMatchObject({ status: 200, body: { created: false, version: { version: 1 } } });
    const v2 = await platform.api<{ created: boolean; version: { version: number } }>('POST', `${A}/films/versions`, {
      document: films(connectorA, 'actor'),
    });
    expect(v2).toMatchObject({ status: 201, body: { created: true, version: { version: 2 } } });
    const invalid = await platform.api<{ error: { code: string } }>('POST', `${A}/films/versions`, {
      document: broken,
    });
    expect(invalid).toMatchObject({ status: 422, body: { error: { code: 'INVALID_DEFINITION' } } });

    const versions = await platform.api<{ version: number }[]>('GET', `${A}/films/versions`);
    expect(versions.body.map((v) => v.version)).toEqual([1, 2]);
    const v1 = await platform.api<{ document: { triggers: unknown[] } }>('GET', `${A}/films/versions/1`);
    expect(v1.status).toBe(200);
    expect(v1.body.document.triggers).toEqual([{ kind: 'manual' }]);
    expect((await platform.api('GET', `${A}/films/versions/3`)).status).toBe(404);

    const diff = await platform.api<{ steps: { changed: { stepId: string; paths: string[] }[] }; name: unknown }>(
      'GET',
      `${A}/films/diff?from=1&to=2`,
    );
    expect(diff.status).toBe(200);
    expect(diff.body.steps.changed).toEqual([
      { stepId: 'extract', kind: 'source', paths: ['db.table.name'] },
      { stepId: 'load', kind: 'destination', paths: ['db.table.name'] },
    ]);
    expect(diff.body.name).toEqual({ from: 'films to the warehouse', to: 'actors to the warehouse' });

    expect((await platform.api('POST', `${A}/films/publish`, { version: 7 })).status).toBe(404);
    const published = await platform.api<{ publishedVersion: number }>('POST', `${A}/films/publish`, { version: 2 });
    expect(published).toMatchObject({ status: 200, body: { publishedVersion: 2 } });
    const list = await platform.api<{ id: string; publishedVersion: number; latestVersion: number }[]>('GET', A);
    expect(list.body).toEqual([expect.objectContaining({ id: 'films', publishedVersion: 2, latestVersion: 2 })]);

    const archived = await platform.api<{ status: string }>('POST', `${A}/films/archive`);
    expect(archived).toMatchObject({ status: 200, body: { status: 'archived' } });
    expect((await platform.api('POST', `${A}/films/publish`, { version: 1 })).status).toBe(409);
  });

  it("saves, reads back and publishes a definition of 1,000 steps (the designer's largest graph)", async () => {
    expect((await platform.api('POST', '/v1/tenants', { id: 'def-large', name: 'large' })).status).toBe(201);
    const connector = (await platform.api<{ id: string }>('POST', '/v1/tenants/def-large/connectors', { name: 'hq' }))
      .body.id;
    const base = films(connector);
    const maps = Array.from({ length: 998 }, (_, i) => ({
      id: `shape${i}`,
      kind: 'transform',
      transform: { op: 'map', fields: { id: 'film_id', title: 'title' } },
    }));
    const order = ['extract', ...maps.map((m) => m.id), 'load'];
    const document = {
      ...base,
      steps: [base.steps[0]!, ...maps, base.steps[1]!],
      edges: order.slice(1).map((id, i) => ({ from: order[i]!, to: id })),
    };
    const path = '/v1/tenants/def-large/definitions';
    const created = await platform.api<{ version: { version: number } }>('POST', path, { id: 'large', document });
    expect(created).toMatchObject({ status: 201, body: { version: { version: 1 } } });
    const stored = await platform.api<{ document: { steps: { id: string }[] } }>('GET', `${path}/large/versions/1`);
    expect(stored.body.document.steps.map((step) => step.id)).toEqual(document.steps.map((step) => step.id));
    expect(stored.body.document.steps).toHaveLength(1_000);
    const published = await platform.api('POST', `${path}/large/publish`, { version: 1 });
    expect(published).toMatchObject({ status: 200, body: { publishedVersion: 1 } });
    // One more step is past the format's limit: refused with the count, nothing saved.
    const tooLarge = await platform.api<{ error: { code: string; issues: Issue[] } }>(
      'POST',
      `${path}/large/versions`,
      {
        document: { ...document, steps: [...document.steps, { ...maps[0]!, id: 'one-more' }] },
      },
    );
    expect(tooLarge).toMatchObject({ status: 422, body: { error: { code: 'INVALID_DEFINITION' } } });
    expect((await platform.api<{ version: number }[]>('GET', `${path}/large/versions`)).body).toHaveLength(1);
  });

  it("answers tenant B's every attempt on tenant A's definition as it answers a missing one: 404", async () => {
    await platform.api('POST', A, { id: 'secret', document: films(connectorA) });
    const attempts: [method: 'GET' | 'POST', path: string, body?: unknown][] = [
      ['GET', ''],
      ['GET', '/versions'],
      ['GET', '/versions/1'],
      ['GET', '/diff?from=1&to=1'],
      ['POST', '/versions', { document: films(connectorA, 'x') }],
      ['POST', '/publish', { version: 1 }],
      ['POST', '/archive'],
    ];
    for (const [method, path, body] of attempts) {
      const theirs = await platform.api<{ error: { code: string; message: string } }>(
        method,
        `${B}/secret${path}`,
        body,
      );
      const missing = await platform.api<{ error: { code: string; message: string } }>(
        method,
        `${B}/nothing${path}`,
        body,
      );
      expect({ path, status: theirs.status, code: theirs.body.error?.code }).toEqual({
        path,
        status: 404,
        code: 'NOT_FOUND',
      });
      expect(theirs.body.error.message.replace('secret', 'nothing')).toBe(missing.body.error.message);
    }
    expect((await platform.api('GET', B)).body).toEqual([]);
    // A's definition is untouched by the attempts.
    expect((await platform.api('GET', `${A}/secret`)).body).toMatchObject({ status: 'active', latestVersion: 1 });
    // B cannot call A's definition from its own either.
    const call = {
      format: 'vansales.definition/v1',
      name: 'calls A',
      steps: [{ id: 'child', kind: 'call', definitionId: 'secret' }],
      edges: [],
    };
    const validated = await platform.api<{ ok: boolean; issues: Issue[] }>('POST', `${B}/validate`, { document: call });
    expect(validated.body.issues.map((i) => i.code)).toEqual(['unknown-definition']);
    expect((await platform.api<{ ok: boolean }>('POST', `${A}/validate`, { document: call })).body.ok).toBe(true);
  });

  it('serves the JSON Schema of documents without a credential', async () => {
    const res = await platform.gateway.app.inject({ method: 'GET', url: '/v1/definitions/schema.json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ type: 'object', required: expect.arrayContaining(['format', 'name', 'steps']) });
  });

  describe('code-first publishing', () => {
    const gatewayUrl = () => platform.gatewayWsUrl.replace(/^ws/, 'http').replace(/\/v1\/agent\/connect$/, '');

    it('runs the package example against the gateway: creates and publishes, then changes nothing when run again', async () => {
      const run = () =>
        promisify(execFile)(
          join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'),
          [join(__dirname, '..', '..', 'libs', 'definitions', 'examples', 'orders-to-warehouse.ts')],
          {
            env: {
              ...process.env,
              VSC_GATEWAY_URL: gatewayUrl(),
              VSC_ADMIN_TOKEN: platform.adminToken,
              VSC_TENANT: 'def-a',
              VSC_CONNECTOR: connectorA,
            },
          },
        );
      const first = JSON.parse((await run()).stdout) as { version: number; created: boolean; published: boolean };
      expect(first).toMatchObject({ definitionId: 'orders-to-warehouse', version: 1, created: true, published: true });
      const second = JSON.parse((await run()).stdout) as { version: number; created: boolean };
      expect(second).toMatchObject({ version: 1, created: false, published: true });
      const stored = await platform.api<{ publishedVersion: number }>('GET', `${A}/orders-to-warehouse`);
      expect(stored.body).toMatchObject({ publishedVersion: 1, latestVersion: 1, name: 'orders to the warehouse' });
    });

    it('publishes a new version, and refuses an invalid one with every issue, keeping the token out of errors', async () => {
      const base = {
        gatewayUrl: gatewayUrl(),
        adminToken: platform.adminToken,
        tenantId: 'def-a',
        definitionId: 'coded',
      };
      expect(await publishDefinition({ ...base, document: films(connectorA) as never })).toMatchObject({
        version: 1,
        created: true,
      });
      expect(await publishDefinition({ ...base, document: films(connectorA, 'actor') as never })).toMatchObject({
        version: 2,
        created: true,
        published: true,
      });
      expect((await platform.api('GET', `${A}/coded`)).body).toMatchObject({ publishedVersion: 2 });

      const refused = await publishDefinition({ ...base, document: broken as never }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(PublishError);
      expect(refused).toMatchObject({ status: 422, code: 'INVALID_DEFINITION' });
      expect((refused as PublishError).issues.length).toBeGreaterThanOrEqual(5);

      const wrongToken = await publishDefinition({
        ...base,
        adminToken: 'not-the-token-1234',
        document: films(connectorA) as never,
      }).catch((err: unknown) => err);
      expect(wrongToken).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      expect(String((wrongToken as Error).message)).not.toContain('not-the-token-1234');
      expect(String((refused as Error).message)).not.toContain(platform.adminToken);
    });
  });
});
