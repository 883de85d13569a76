import { buildApp, type AppDeps } from './app';
import { createLogger } from './logger';

/**
 * The gateway's OpenAPI document without a running gateway or any service: the routes are built over
 * inert dependencies (nothing is called while routes register; no request is served), with every
 * optional feature on so that the document lists every route. Clients are generated from it (console).
 */
export async function openapiDocument(): Promise<Record<string, unknown>> {
  const app = await buildApp(documentOnlyDeps());
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/** Every dependency inert, every optional feature on: for the document, and tests of plugins that call no service. */
export function documentOnlyDeps(): AppDeps {
  const inert = inertObject();
  return {
    logger: createLogger('silent', 'openapi-document'),
    adminToken: 'document-only',
    hub: inert,
    temporalConnection: inert,
    temporal: inert,
    workflowTaskQueue: 'document-only',
    repos: inert,
    auditRepo: inert,
    definitionRuns: { runs: inert, flags: inert },
    schemaRegistry: inert,
    definitions: inert,
    readiness: inert,
    metrics: inert,
    payloadCodec: inert,
    buffer: { dataBuffer: inertObject({ maxChunkBytes: 1024 * 1024 }), tokenSecret: Buffer.alloc(32) },
    webhooks: { repo: inert, box: inert, definitions: inert, runAllowed: inert, maxBodyBytes: 1 },
    apis: inert,
    credentials: inert,
    apiCalls: inert,
    agentReleases: inert,
    quotas: inert,
    identity: inert,
  };
}

/**
 * Stands in for every service while routes register: any property is another inert value and any call
 * returns one (never a promise: `then` is undefined). Nothing here serves a request.
 */
function inertObject(values: Record<string, unknown> = {}): never {
  const target = function inert() {};
  const proxy: unknown = new Proxy(target, {
    get: (_t, key) =>
      typeof key === 'string' && key in values
        ? values[key]
        : key === 'then' || typeof key === 'symbol'
          ? undefined
          : proxy,
    apply: () => proxy,
  });
  return proxy as never;
}
