import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CredentialName, OwnerCredential } from '@vansales/sdk-factory/auth';
import { errorResponses, TenantParams } from './schemas';
import { actorOf } from './definition-run-routes';

const CredentialParams = TenantParams.extend({ name: CredentialName });
const ApiSchemeParams = TenantParams.extend({
  apiId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an API id: lower-case letters, digits and -, at most 63'),
  scheme: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "a security scheme's name as the API declares it"),
});

const CredentialBody = z.object({
  credential: OwnerCredential.describe(
    'the secret, by kind; secret fields are write-only: no answer ever carries them, or any part of them',
  ),
});

const CredentialView = z.object({
  name: z.string(),
  kind: z.string(),
  version: z.number().describe('1 when created, +1 on every new value'),
  createdAt: z.string(),
  rotatedAt: z.string().optional(),
  lastUsedAt: z.string().optional().describe('when it was last attached to a request (to the minute)'),
  fields: z
    .record(z.string(), z.string())
    .describe(
      'what identifies it, never a secret: username (basic), headerName (header), clientId and endpoints (oauth2-client), subject, issuer, validTo and fingerprint256 (mtls)',
    ),
  failure: z
    .object({ message: z.string(), at: z.string() })
    .optional()
    .describe('the last failure to use it (a refused OAuth refresh), until a new value or authorization'),
  oauth: z
    .object({
      status: z.enum(['not-authorized', 'active', 'expired', 'refresh-failed']),
      expiresAt: z.string().optional(),
      refreshable: z.boolean(),
      scope: z.string().optional(),
      tokens: z.number(),
    })
    .optional()
    .describe("an OAuth client's token status (the token itself never leaves the store)"),
});

const credentialRoutes: FastifyPluginAsyncZod = async (app) => {
  const base = '/v1/tenants/:tenantId/credentials';

  app.get(
    base,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listCredentials',
        tags: ['credentials'],
        description:
          "The tenant's credentials: names, kinds, identifying fields, dates and OAuth token status. Never a secret.",
        params: TenantParams,
        response: { 200: z.array(CredentialView), ...errorResponses() },
      },
    },
    async (req) => app.credentials.list(req.params.tenantId),
  );

  app.get(
    `${base}/:name`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getCredential',
        tags: ['credentials'],
        description: 'One credential as listed (never its secret).',
        params: CredentialParams,
        response: { 200: CredentialView, ...errorResponses(404) },
      },
    },
    async (req) => app.credentials.get(req.params.tenantId, req.params.name),
  );

  app.put(
    `${base}/:name`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'putCredential',
        tags: ['credentials'],
        description:
          "Creates or replaces a named credential, sealed in the cloud credential store (envelope encryption per tenant). An API's security scheme `S` of API `A` uses the credential named `A.S`; an HTTP step names its own. Secret fields are write-only.",
        params: CredentialParams,
        body: CredentialBody,
        response: { 200: z.object({ created: z.boolean(), credential: CredentialView }), ...errorResponses() },
      },
    },
    async (req) => app.credentials.put(req.params.tenantId, req.params.name, req.body.credential, actorOf(req)),
  );

  app.post(
    `${base}/:name/rotate`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'rotateCredential',
        tags: ['credentials'],
        description:
          'A new secret for an existing credential of the same kind (404 when there is none, 409 for another kind). Requests made from now on use it.',
        params: CredentialParams,
        body: CredentialBody,
        response: { 200: CredentialView, ...errorResponses(404, 409) },
      },
    },
    async (req) => app.credentials.rotate(req.params.tenantId, req.params.name, req.body.credential, actorOf(req)),
  );

  app.delete(
    `${base}/:name`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'deleteCredential',
        tags: ['credentials'],
        description: 'Deletes the credential and the OAuth tokens cached for it.',
        params: CredentialParams,
        response: { 204: z.null(), ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      await app.credentials.delete(req.params.tenantId, req.params.name, actorOf(req));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/tenants/:tenantId/apis/:apiId/oauth/:scheme/authorize',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'startOAuthAuthorization',
        tags: ['credentials'],
        description:
          "Starts an OAuth 2.0 authorization code flow with PKCE for an API's oauth2 or openIdConnect scheme (its client stored as credential `<apiId>.<scheme>`): answers the provider's address to send the owner to. The state is bound to the tenant and the credential, used once, and expires (VSC_OAUTH_AUTHORIZATION_TTL_SECONDS); the provider redirects to GET /v1/oauth/callback.",
        params: ApiSchemeParams,
        body: z
          .object({
            scopes: z
              .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/, 'an OAuth scope'))
              .max(50)
              .optional(),
            /** OpenID providers issue refresh tokens (offline_access) only with prompt=consent. */
            prompt: z.enum(['consent', 'login', 'none', 'select_account']).optional(),
          })
          .default({}),
        response: {
          200: z.object({
            authorizationUrl: z.string(),
            state: z.string(),
            credential: z.string(),
            expiresAt: z.string(),
          }),
          ...errorResponses(404, 409),
        },
      },
    },
    async (req) =>
      app.credentials.startAuthorization(
        req.params.tenantId,
        {
          apiId: req.params.apiId,
          scheme: req.params.scheme,
          scopes: req.body.scopes,
          extraParameters: req.body.prompt ? { prompt: req.body.prompt } : undefined,
        },
        `${req.protocol}://${req.host}`,
        actorOf(req),
      ),
  );

  app.get(
    '/v1/oauth/callback',
    {
      // The owner's browser comes back from the provider without the platform's token: the state
      // (tenant-bound, one use, expiring, 144 random bits) is what authorizes this request.
      config: { auth: 'public' },
      schema: {
        operationId: 'completeOAuthAuthorization',
        tags: ['credentials'],
        description:
          "Where the OAuth provider redirects the owner: exchanges the code (with the PKCE verifier) and stores the tokens. A provider's error answer is recorded on the credential.",
        querystring: z.object({
          state: z.string().min(1).max(200),
          code: z.string().min(1).max(4096).optional(),
          error: z.string().max(200).optional(),
          error_description: z.string().max(2000).optional(),
          iss: z.string().max(2000).optional(),
        }),
        response: {
          200: z.object({
            tenantId: z.string(),
            credential: z.string(),
            expiresAt: z.string().optional(),
            scope: z.string().optional(),
          }),
          ...errorResponses(422),
        },
      },
    },
    async (req) => app.credentials.callback(req.query),
  );
};

export default fp(credentialRoutes, {
  name: 'credential-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'credential-service'],
});
