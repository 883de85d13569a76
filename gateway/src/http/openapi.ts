import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { SECURITY_SCHEMES } from './auth';

/**
 * The OpenAPI document of every route, from the routes' own zod schemas. Security comes from each
 * route's `config.auth` (see auth.ts); `/openapi.json` serves it.
 */
export const openapiPlugin = fp(
  async (app, { version }: { version: string }) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Vansales Connect gateway',
          version,
          description:
            'Control plane (admin token), buffer (buffer tokens) and the agent WebSocket. Errors: { error: { code, message } }.',
        },
        components: { securitySchemes: SECURITY_SCHEMES },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
  },
  { name: 'openapi', fastify: '5.x', dependencies: ['auth'] },
);
