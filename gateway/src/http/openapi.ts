import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { SECURITY_SCHEMES } from './auth';

/** Statuses that carry no body by definition (RFC 9110): a documented content type would be a promise not kept. */
const BODYLESS = new Set(['101', '204', '304']);

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>;

/**
 * zod's `z.null()` answer of a 204 (a CORS preflight) was documented as `application/json` content,
 * so a client following the document expected JSON where the answer has no body at all.
 */
function withoutBodylessContent(doc: OpenApiDocument): OpenApiDocument {
  const paths = (
    doc as { paths?: Record<string, Record<string, { responses?: Record<string, { content?: unknown }> }>> }
  ).paths;
  for (const item of Object.values(paths ?? {}))
    for (const operation of Object.values(item))
      for (const [status, response] of Object.entries(operation.responses ?? {}))
        if (BODYLESS.has(status)) delete response.content;
  return doc;
}

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
      transformObject: (input) => withoutBodylessContent(jsonSchemaTransformObject(input)),
    });
  },
  { name: 'openapi', fastify: '5.x', dependencies: ['auth'] },
);
