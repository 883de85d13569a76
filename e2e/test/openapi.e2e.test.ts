import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { RouteOptions } from 'fastify';
import ts from 'typescript';
import { startPlatform, type Platform } from './support/harness';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: object }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, object> };
}

/** Public on purpose: everything else must declare (and enforce) a credential. */
const PUBLIC = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'OPTIONS /v1/codec/decode',
  // The JSON Schema of definition documents: a public format, fetched by editors through $schema.
  'GET /v1/definitions/schema.json',
  // Webhook deliveries: senders (Stripe, GitHub, …) send no credential of ours; the body's signature
  // under the hook's secret is what authenticates them (401 without it).
  'POST /v1/hooks/:hookId',
  // OAuth providers send the owner's browser back without a credential of ours: the one-use,
  // tenant-bound, expiring state is the authority (400 without a live one).
  'GET /v1/oauth/callback',
  // Signing in: the email and password in the body are the credential (throttled, 429 past the limit).
  'POST /v1/sessions',
  // Single sign-on: starting is anonymous; the callback's one-use, expiring state and the provider's
  // signed ID token are the authority (400 without a state).
  'GET /v1/sso/:provider/start',
  'GET /v1/sso/:provider/callback',
  // A new person's first step: the invitation token (256 random bits, single use, expiring, checked
  // against its stored hash before any work) is the authority (404 without a live one).
  'POST /v1/invitations/register',
  // The providers' names for a sign-in page's buttons, before anyone is signed in (no issuer or secret).
  'GET /v1/sso/providers',
]);
/** Not an HTTP API: @fastify/websocket hides it from the document (its frames are @vansales/protocol's). */
const UNDOCUMENTED = new Set(['GET /v1/agent/connect']);
/** Routes whose answer has no body (a CORS preflight, a WebSocket upgrade). */
const BODYLESS_SUCCESS = new Set(['204', '101']);

/** Sample values that satisfy each path parameter, so a request reaches its route. */
const SAMPLE: Record<string, string> = {
  tenantId: 'acme',
  connectorId: randomUUID(),
  database: 'erp',
  workflowId: `sync-${randomUUID()}`,
  objectId: 'object-0001',
  index: '0',
};

describe('every gateway route is in /openapi.json, complete enough to generate a client from (real services)', () => {
  let platform: Platform;
  let doc: Document;
  const routes: { method: string; url: string }[] = [];

  beforeAll(async () => {
    platform = await startPlatform({
      onRoute: (route: RouteOptions) => {
        for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
      },
    });
    const res = await platform.gateway.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json() as Document;
  });
  afterAll(async () => platform?.close());

  const operationOf = (route: { method: string; url: string }) =>
    doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];

  it('documents each registered route with an operationId, its parameters, body and responses, and its security', () => {
    // Sanity: the walk saw the routes (a hook that saw nothing would pass everything). 24 since the
    // codec's encode route (POST and its preflight) went: it was an encryption oracle.
    expect(routes.length).toBeGreaterThanOrEqual(24);
    const problems: string[] = [];
    for (const route of routes) {
      const name = `${route.method} ${route.url}`;
      if (UNDOCUMENTED.has(name)) continue;
      const op = operationOf(route);
      if (!op) {
        problems.push(`${name}: not in the document`);
        continue;
      }
      if (!op.operationId) problems.push(`${name}: no operationId`);
      for (const param of route.url.match(/:(\w+)/g) ?? []) {
        if (!op.parameters?.some((p) => p.in === 'path' && p.name === param.slice(1)))
          problems.push(`${name}: path parameter ${param} undocumented`);
      }
      if (
        op.requestBody &&
        !Object.values(op.requestBody.content).every((c) => c.schema && Object.keys(c.schema).length > 0)
      )
        problems.push(`${name}: request body without a schema`);
      const responses = Object.entries(op.responses ?? {});
      const successes = responses.filter(([status]) => /^[12]\d\d$/.test(status));
      if (successes.length === 0) problems.push(`${name}: no success response declared`);
      for (const [status, response] of successes) {
        if (BODYLESS_SUCCESS.has(status)) continue;
        const schemas = Object.values(response.content ?? {}).map((c) => c.schema);
        if (schemas.length === 0 || schemas.some((s) => !s || Object.keys(s).length === 0))
          problems.push(`${name}: response ${status} without a schema`);
      }
      if (!op.security) problems.push(`${name}: no security declared`);
      else if (op.security.length === 0 && !PUBLIC.has(name))
        problems.push(`${name}: public, but not on the list of public routes`);
      else if (op.security.length > 0) {
        for (const status of ['400', '401'])
          if (!op.responses?.[status]) problems.push(`${name}: error response ${status} undocumented`);
        for (const scheme of op.security.flatMap((s) => Object.keys(s)))
          if (!doc.components?.securitySchemes?.[scheme]) problems.push(`${name}: unknown security scheme ${scheme}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every operation its own operationId', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('enforces what it documents: a route that declares a credential refuses a call without one, a public one answers', async () => {
    for (const route of routes) {
      const url = route.url.replace(/:(\w+)/g, (_m, param: string) => SAMPLE[param] ?? 'x');
      const res = await platform.gateway.app.inject({
        method: route.method as 'GET',
        url,
        headers: { 'x-vsc-rows': '1' },
      });
      const expected = PUBLIC.has(`${route.method} ${route.url}`) ? 'answers' : 'refuses';
      expect({
        route: `${route.method} ${route.url}`,
        outcome: res.statusCode === 401 ? 'refuses' : 'answers',
      }).toEqual({ route: `${route.method} ${route.url}`, outcome: expected });
    }
  });

  it('answers an unknown route in the error shape of every other error, without echoing the query string', async () => {
    const res = await platform.gateway.app.inject({ method: 'GET', url: '/v1/no-such-thing?token=secret-in-url' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /v1/no-such-thing' } });
  });

  it('generates a typed client: openapi-typescript types for every operation that a strict compile accepts, and that catch a wrong field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-openapi-client-'));
    try {
      // The generator's own command line, as a console or SDK build would run it.
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
      await promisify(execFile)(process.execPath, [
        join(dirname(require.resolve('openapi-typescript/package.json')), 'bin/cli.js'),
        join(dir, 'openapi.json'),
        '--output',
        join(dir, 'gateway-api.ts'),
      ]);
      const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId!));
      writeFileSync(
        join(dir, 'client.ts'),
        [
          "import type { operations, paths } from './gateway-api';",
          // Every operation has typed responses.
          ...ids.map((id, i) => `export type Responses${i} = operations['${id}']['responses'];`),
          "type CreateConnector = operations['createConnector'];",
          "export const body: CreateConnector['requestBody']['content']['application/json'] = { name: 'hq' };",
          "export const created: CreateConnector['responses'][201]['content']['application/json'] = { id: 'c', tenantId: 't', name: 'hq', apiKey: 'vmc_x' };",
          "export const rows: paths['/v1/tenants/{tenantId}/queries']['post']['responses'][200]['content']['application/json']['result']['rows'] = [[1, 'a']];",
          "export const refused: operations['runQuery']['responses'][404]['content']['application/json'] = { error: { code: 'NOT_FOUND', message: 'no' } };",
          "export const manifest: operations['getBufferManifest']['responses'][200]['content']['application/json']['chunks'] = [{ index: 0, rows: 1, bytes: 2, sha256: 'x' }];",
          '// @ts-expect-error the generated types know a connector id is a string',
          "export const wrong: CreateConnector['responses'][201]['content']['application/json'] = { id: 1, tenantId: 't', name: 'hq', apiKey: 'k' };",
        ].join('\n'),
      );
      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        skipLibCheck: true,
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
