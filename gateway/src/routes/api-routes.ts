import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, TenantParams } from './schemas';
import { actorOf } from './definition-run-routes';

/** API ids reach storage keys and the definitions' step references: a fixed alphabet. */
const ApiParams = TenantParams.extend({
  apiId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an API id: lower-case letters, digits and -, at most 63'),
});
const VersionParams = ApiParams.extend({ version: z.coerce.number().int().min(1).max(1_000_000) });
/** A specification of GitHub's size (13 MB) must fit; ingestion bounds the rest (aliases, depth, references, time). */
const MAX_SPEC_BYTES = 32 * 1024 * 1024;

const Problem = z.object({
  pointer: z.string(),
  code: z.string(),
  severity: z.string(),
  message: z.string(),
});
const Change = z.object({
  id: z.string(),
  text: z.string(),
  level: z.enum(['error', 'warning', 'info']),
  method: z.string().optional(),
  path: z.string().optional(),
  operationKey: z.string().optional(),
});
const Report = z.object({
  apiId: z.string(),
  from: z.number(),
  to: z.number(),
  breaking: z.boolean(),
  changes: z.array(Change),
  affectedOperations: z.array(z.string()),
});
const AffectedStep = z.object({
  stepId: z.string(),
  path: z.string(),
  stepKind: z.string(),
  operationKey: z.string(),
  pinnedVersion: z.number(),
  changes: z.array(Change).optional(),
});
const Version = z.object({
  apiId: z.string(),
  version: z.number(),
  specHash: z.string(),
  manifestHash: z.string(),
  sourceFormat: z.string(),
  apiVersion: z.string(),
  operationCount: z.number(),
  createdBy: z.string(),
  createdAt: z.string(),
  source: z
    .object({ url: z.string(), connectorId: z.string().optional() })
    .optional()
    .describe('where the specification was fetched from (what refresh fetches again); absent for an uploaded text'),
});

/** A definition version whose steps an API change touches. */
const DefinitionRef = z.object({
  definitionId: z.string(),
  version: z.number(),
  latest: z.boolean(),
  published: z.boolean(),
});

/**
 * Where the API can be reached from (issue 11; the marketplace's "accessibility: site, internet or
 * both"): what routes an operation step that gives no endpoint.
 */
const AccessFields = {
  accessibility: z
    .enum(['site', 'internet', 'both'])
    .optional()
    .describe(
      'site: only on a site network (its agent calls it); internet: only from the internet (the cloud worker calls it); both: either, routed per step (data stays on the site when the other end is there)',
    ),
  site: z
    .object({
      connectorId: z.string().uuid().describe('the connector whose agent reaches the API'),
      api: z
        .string()
        .min(1)
        .max(128)
        .describe("the API's name in that site's policy.json (the agent maps it to the base URL and credentials)"),
    })
    .optional()
    .describe('for site and both'),
  internet: z
    .object({ baseUrl: z.string().url().max(2000).describe('the address the cloud calls it at (http or https)') })
    .optional()
    .describe('for internet and both'),
};

/** What registering (or refreshing) answers. */
const Registered = z.object({
  apiId: z.string(),
  version: z.number(),
  created: z.boolean(),
  apiVersion: z.string(),
  sourceFormat: z.string(),
  operationCount: z.number(),
  ...AccessFields,
  warnings: z.array(Problem),
  changesFromPrevious: Report.extend({
    definitions: z.array(DefinitionRef.extend({ steps: z.array(AffectedStep) })),
  }).optional(),
});

const apiRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/tenants/:tenantId/apis/:apiId/versions',
    {
      config: { auth: 'admin' },
      bodyLimit: MAX_SPEC_BYTES + 64 * 1024,
      schema: {
        operationId: 'registerApiVersion',
        tags: ['apis'],
        description:
          "Registers an API's specification (OpenAPI 3.0/3.1 or Swagger 2.0, JSON or YAML; its text, or an internet URL fetched through the egress guard) as its next version: validated (every problem by JSON pointer), its operation manifest made, stored signed. The same text again answers the existing version (`created: false`). A new version is compared with the previous one and names the definition steps that call an operation that broke; definitions stay on the version they pin.",
        params: ApiParams,
        body: z.object({
          name: z.string().min(1).max(200).optional(),
          ...AccessFields,
          spec: z.union([
            z.object({
              text: z.string().min(1).max(MAX_SPEC_BYTES),
              contentType: z.string().max(200).optional(),
              sourceUrl: z.string().url().max(2000).optional(),
            }),
            z
              .object({
                url: z.string().url().max(2000),
                connectorId: z
                  .string()
                  .uuid()
                  .optional()
                  .describe("the site whose agent fetches the URL on its network, under the site's rules"),
              })
              .describe(
                'a URL: without connectorId an internet URL the gateway fetches through its egress guard (no private addresses); with it, a URL on that site network its agent fetches',
              ),
          ]),
        }),
        response: { 200: Registered, ...errorResponses(404, 422) },
      },
    },
    async (req) => app.apis.register(req.params.tenantId, req.params.apiId, req.body, actorOf(req)),
  );

  app.post(
    '/v1/tenants/:tenantId/apis/:apiId/refresh',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'refreshApi',
        tags: ['apis'],
        description:
          "Fetches the latest version's specification again from the URL it was registered from (a site URL through that site's agent) and registers it: a new version only when the specification changed (`created`), with the changes from the previous version and the definition steps they affect, as registering answers. 409 for a version uploaded as text.",
        params: ApiParams,
        response: { 200: Registered, ...errorResponses(404, 409, 422) },
      },
    },
    async (req) => app.apis.refresh(req.params.tenantId, req.params.apiId, actorOf(req)),
  );

  app.get(
    '/v1/tenants/:tenantId/apis',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listApis',
        tags: ['apis'],
        description: "The tenant's registered APIs.",
        params: TenantParams,
        response: {
          200: z.array(
            z.object({
              id: z.string(),
              name: z.string(),
              createdBy: z.string(),
              createdAt: z.string(),
              ...AccessFields,
            }),
          ),
          ...errorResponses(),
        },
      },
    },
    async (req) =>
      (await app.apis.list(req.params.tenantId)).map(({ id, name, createdBy, createdAt, access }) => ({
        id,
        name,
        createdBy,
        createdAt,
        ...access,
      })),
  );

  app.get(
    '/v1/tenants/:tenantId/apis/:apiId/versions',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listApiVersions',
        tags: ['apis'],
        description: "An API's versions, oldest first.",
        params: ApiParams,
        response: { 200: z.array(Version), ...errorResponses(404) },
      },
    },
    async (req) => app.apis.versions(req.params.tenantId, req.params.apiId),
  );

  app.get(
    '/v1/tenants/:tenantId/apis/:apiId/versions/:version/operations',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listApiOperations',
        tags: ['apis'],
        description: "One version's operations (the designer's step palette), read from its verified manifest.",
        params: VersionParams,
        response: {
          200: z.object({
            apiId: z.string(),
            version: z.number(),
            title: z.string(),
            servers: z.array(z.object({ url: z.string(), description: z.string().optional() })),
            securitySchemes: z.record(z.string(), z.unknown()),
            operations: z.array(
              z.object({
                key: z.string(),
                method: z.string(),
                path: z.string(),
                summary: z.string().optional(),
                deprecated: z.boolean(),
                parameters: z.array(z.object({ name: z.string(), in: z.string(), required: z.boolean() })),
                hasBody: z.boolean(),
                pagination: z.string().optional(),
              }),
            ),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.apis.operations(req.params.tenantId, req.params.apiId, req.params.version),
  );

  app.get(
    '/v1/tenants/:tenantId/apis/:apiId/versions/:version/upgrade-impact',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getApiUpgradeImpact',
        tags: ['apis'],
        description:
          "What moving the tenant's definitions to this version means: per definition, the steps whose operation broke since the version they pin (must change) and those that can simply be re-pinned.",
        params: VersionParams,
        response: {
          200: z.object({
            apiId: z.string(),
            toVersion: z.number(),
            definitions: z.array(
              DefinitionRef.extend({
                mustChange: z.array(AffectedStep),
                canUpgrade: z.array(AffectedStep),
              }),
            ),
            reports: z.array(Report),
          }),
          ...errorResponses(404),
        },
      },
    },
    async (req) => app.apis.upgradeImpact(req.params.tenantId, req.params.apiId, req.params.version),
  );
};

export default fp(apiRoutes, {
  name: 'api-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'api-service'],
});
