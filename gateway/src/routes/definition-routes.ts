import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DefinitionDocument, ValidationIssueCode } from '@vansales/definitions';
import { errorResponses, SchemaVersionNumber, TenantParams } from './schemas';

/** The same alphabet as a call step's definitionId (and the definitions table's check). */
const DefinitionId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'definition ids are lower-case letters, digits and -, at most 63');
const DefinitionParams = TenantParams.extend({ definitionId: DefinitionId });
const VersionParams = DefinitionParams.extend({ version: SchemaVersionNumber });
/**
 * A definition document as sent: checked by the validator, not by the route, so a bad one answers
 * 422 with every issue instead of 400 with the first. Its shape: GET /v1/definitions/schema.json.
 */
const DocumentInput = z
  .record(z.string(), z.unknown())
  .describe('a definition document (vansales.definition/v1); JSON Schema at GET /v1/definitions/schema.json');

const Issue = z.object({
  stepId: z.string().optional(),
  path: z.string().describe('where in the document, e.g. steps[3].db.table'),
  code: z.enum(Object.values(ValidationIssueCode) as [ValidationIssueCode, ...ValidationIssueCode[]]),
  message: z.string(),
  severity: z.enum(['error', 'warning']),
});
const Definition = z.object({
  tenantId: z.string(),
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'archived']),
  publishedVersion: z.number().optional(),
  publishedAt: z.string().optional(),
  latestVersion: z.number(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const VersionSummary = z.object({
  version: z.number(),
  hash: z.string().describe('sha256 of the canonical JSON (RFC 8785) of the parsed document'),
  createdAt: z.string(),
  createdBy: z.string(),
  published: z.boolean(),
});
const Version = z.object({
  tenantId: z.string(),
  definitionId: z.string(),
  version: z.number(),
  hash: z.string(),
  document: DefinitionDocument,
  createdAt: z.string(),
  createdBy: z.string().optional(),
  publishedAt: z.string().optional(),
});
const Warnings = z.array(Issue).describe('warnings of the validation (errors refuse the document with 422)');
const Diff = z.object({
  from: z.number(),
  to: z.number(),
  identical: z.boolean(),
  name: z.object({ from: z.string(), to: z.string() }).optional(),
  description: z.object({ from: z.string().optional(), to: z.string().optional() }).optional(),
  steps: z.object({
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(
      z.object({
        stepId: z.string(),
        kind: z.string(),
        paths: z.array(z.string()).describe('JSON paths inside the step'),
      }),
    ),
  }),
  edges: z.object({
    added: z.array(z.object({}).loose()),
    removed: z.array(z.object({}).loose()),
  }),
  triggers: z.object({ from: z.array(z.object({}).loose()), to: z.array(z.object({}).loose()) }).optional(),
});

const caller = (principal: { kind: string }) => principal.kind;

const definitionRoutes: FastifyPluginAsyncZod = async (app) => {
  let schema: Record<string, unknown> | undefined;
  app.get(
    '/v1/definitions/schema.json',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'getDefinitionJsonSchema',
        tags: ['definitions'],
        description: "The JSON Schema of a definition document, for editors' $schema and the console's designer.",
        response: { 200: z.object({}).loose() },
      },
    },
    async () => (schema ??= app.definitions.schema()),
  );

  app.post(
    '/v1/tenants/:tenantId/definitions/validate',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'validateDefinition',
        tags: ['definitions'],
        description: 'Validates a document without saving it: every issue, with its step, path and a message.',
        params: TenantParams,
        body: z.object({ document: DocumentInput }),
        response: { 200: z.object({ ok: z.boolean(), issues: z.array(Issue) }), ...errorResponses(404) },
      },
    },
    async (req) => app.definitions.validate(req.params.tenantId, req.body.document),
  );

  app.post(
    '/v1/tenants/:tenantId/definitions',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createDefinition',
        tags: ['definitions'],
        description: 'Creates a definition with its first version (422 with every issue when it does not validate).',
        params: TenantParams,
        body: z.object({ id: DefinitionId, document: DocumentInput }),
        response: {
          201: z.object({ definition: Definition, version: Version, warnings: Warnings }),
          ...errorResponses(404, 409, 422),
        },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(await app.definitions.create(req.params.tenantId, req.body.id, req.body.document, caller(req.principal))),
  );

  app.get(
    '/v1/tenants/:tenantId/definitions',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listDefinitions',
        tags: ['definitions'],
        params: TenantParams,
        response: { 200: z.array(Definition), ...errorResponses(404) },
      },
    },
    async (req) => app.definitions.list(req.params.tenantId),
  );

  app.get(
    '/v1/tenants/:tenantId/definitions/:definitionId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getDefinition',
        tags: ['definitions'],
        params: DefinitionParams,
        response: { 200: Definition, ...errorResponses(404) },
      },
    },
    async (req) => app.definitions.get(req.params.tenantId, req.params.definitionId),
  );

  app.post(
    '/v1/tenants/:tenantId/definitions/:definitionId/versions',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'addDefinitionVersion',
        tags: ['definitions'],
        description:
          'Saves a new version: 201 when the content is new, 200 with the existing version when the same content was saved before.',
        params: DefinitionParams,
        body: z.object({ document: DocumentInput }),
        response: {
          200: z.object({ created: z.literal(false), version: Version, warnings: Warnings }),
          201: z.object({ created: z.literal(true), version: Version, warnings: Warnings }),
          ...errorResponses(404, 409, 422),
        },
      },
    },
    async (req, reply) => {
      const saved = await app.definitions.addVersion(
        req.params.tenantId,
        req.params.definitionId,
        req.body.document,
        caller(req.principal),
      );
      return reply.code(saved.created ? 201 : 200).send(saved);
    },
  );

  app.get(
    '/v1/tenants/:tenantId/definitions/:definitionId/versions',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listDefinitionVersions',
        tags: ['definitions'],
        params: DefinitionParams,
        response: { 200: z.array(VersionSummary), ...errorResponses(404) },
      },
    },
    async (req) => app.definitions.versions(req.params.tenantId, req.params.definitionId),
  );

  app.get(
    '/v1/tenants/:tenantId/definitions/:definitionId/versions/:version',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getDefinitionVersion',
        tags: ['definitions'],
        params: VersionParams,
        response: { 200: Version, ...errorResponses(404) },
      },
    },
    async (req) => app.definitions.version(req.params.tenantId, req.params.definitionId, req.params.version),
  );

  app.get(
    '/v1/tenants/:tenantId/definitions/:definitionId/diff',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'diffDefinitionVersions',
        tags: ['definitions'],
        description: 'What changed from one version to another, step by step (steps matched by id).',
        params: DefinitionParams,
        querystring: z.object({ from: SchemaVersionNumber, to: SchemaVersionNumber }),
        response: { 200: Diff, ...errorResponses(404) },
      },
    },
    async (req) => app.definitions.diff(req.params.tenantId, req.params.definitionId, req.query.from, req.query.to),
  );

  app.post(
    '/v1/tenants/:tenantId/definitions/:definitionId/publish',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'publishDefinition',
        tags: ['definitions'],
        description: 'Makes a version the one new runs use (validated again first); runs in flight keep their version.',
        params: DefinitionParams,
        body: z.object({ version: SchemaVersionNumber }),
        response: { 200: Definition, ...errorResponses(404, 409, 422) },
      },
    },
    async (req) => app.definitions.publish(req.params.tenantId, req.params.definitionId, req.body.version),
  );

  app.post(
    '/v1/tenants/:tenantId/definitions/:definitionId/archive',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'archiveDefinition',
        tags: ['definitions'],
        description: 'Archives a definition: no new runs start from it; runs in flight continue.',
        params: DefinitionParams,
        response: { 200: Definition, ...errorResponses(404) },
      },
    },
    async (req) => app.definitions.archive(req.params.tenantId, req.params.definitionId),
  );
};

export default fp(definitionRoutes, {
  name: 'definition-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'definition-service'],
});
