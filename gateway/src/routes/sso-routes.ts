import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GatewayError } from '../errors';
import { originOf } from './identity-routes';
import { errorResponses } from './schemas';

const ProviderParams = z.object({ provider: z.string().min(1).max(40) });
const User = z.object({ id: z.string(), email: z.string(), displayName: z.string() });

/** Single sign-on through OpenID Connect: public, the provider and the state vouch for the caller. */
const ssoRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v1/sso/providers',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'listSingleSignOnProviders',
        tags: ['people'],
        description:
          'The single sign-on providers this gateway is configured with, by name only (what a sign-in page shows as buttons before anyone is signed in; no issuer, client id or secret).',
        response: { 200: z.object({ providers: z.array(z.object({ name: z.string() })) }) },
      },
    },
    async () => ({ providers: app.sso.providers().map((name) => ({ name })) }),
  );

  app.get(
    '/v1/sso/:provider/start',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'startSingleSignOn',
        tags: ['people'],
        description:
          "Starts a sign-in through an OpenID Connect provider (code flow, PKCE S256, a single-use state and nonce that expire, kept in the metadata store so any gateway node can finish the sign-in): a browser is redirected (302) to the provider's authorization page; `mode=json` answers 200 with that URL instead (for a console that navigates itself). Each address may start a limited number per minute (429 with Retry-After past it).",
        params: ProviderParams,
        querystring: z.object({ mode: z.enum(['redirect', 'json']).default('redirect') }),
        response: {
          200: z.object({ authorizationUrl: z.string() }),
          302: z.null().describe("to the provider's authorization page"),
          ...errorResponses(404, 429),
        },
      },
    },
    async (req, reply) => {
      const authorizationUrl = await app.sso.start(req.params.provider, originOf(req));
      if (req.query.mode === 'json') return reply.code(200).send({ authorizationUrl });
      return reply.redirect(authorizationUrl, 302);
    },
  );

  app.get(
    '/v1/sso/:provider/callback',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'finishSingleSignOn',
        tags: ['people'],
        description:
          'Where the provider sends the person back: the state is used up, the code exchanged, the ID token verified (signature, issuer, audience, nonce, expiry). A verified email of an allowed domain signs in (the account is created on first sign-in): a session token like POST /v1/sessions.',
        params: ProviderParams,
        querystring: z.object({
          state: z.string().max(200).optional(),
          code: z.string().max(2000).optional(),
          error: z.string().max(200).optional(),
        }),
        response: {
          201: z.object({ token: z.string(), expiresAt: z.date(), user: User }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (req, reply) => {
      const session = await app.sso.callback(req.params.provider, req.query, originOf(req)).catch((err: unknown) => {
        // The provider and the reason, never the code, the state or a token.
        if (err instanceof GatewayError)
          req.log.warn(
            {
              source: req.ip,
              provider: req.params.provider,
              code: err.code,
              reason: err.details?.reason,
              why: err.message,
            },
            'single sign-on refused',
          );
        throw err;
      });
      return reply.code(201).send({ token: session.token, expiresAt: session.expiresAt, user: session.user });
    },
  );
};

export default fp(ssoRoutes, {
  name: 'sso-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'sso-service'],
});
