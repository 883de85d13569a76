import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  API_ARTIFACT_CONTENT_TYPE,
  API_ARTIFACT_ROUTES_PREFIX,
  ApiArtifactHeader,
  ApiArtifactSha256,
  REGISTRY_KEYS_PATH,
  RegistryPublicKeys,
} from '@vansales/protocol';
import { tenantOf } from '../http/auth';
import { Binary, errorResponses } from './schemas';

/**
 * The SDK factory's artifacts for agents (issue 11 item 3): a site's agent fetches the spec, manifest
 * or bundle an operation needs by its content hash, only from its own tenant. The answer carries the
 * registry record (kind, size, signing key, signature) in headers beside the bytes as stored; the
 * agent checks the signature under keys it pinned and the bytes against the signed hash and size,
 * so nothing between the registry and the site (store, database, gateway) is trusted. Authenticated
 * like the agent's WebSocket: the API key and a fresh signature by the agent's enrolled key pair.
 */
const agentArtifactRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    `${API_ARTIFACT_ROUTES_PREFIX}/:sha256`,
    {
      config: { auth: 'agent-key' },
      schema: {
        operationId: 'getAgentApiArtifact',
        tags: ['agents'],
        description: `One SDK artifact of the agent's tenant by sha256: the bytes as stored, and the registry record in the ${Object.values(ApiArtifactHeader).join(', ')} headers. The agent verifies the signature and the bytes; 404 for a hash its tenant does not have.`,
        params: z.object({ sha256: ApiArtifactSha256 }),
        response: {
          200: { description: 'the artifact', content: { [API_ARTIFACT_CONTENT_TYPE]: { schema: Binary } } },
          ...errorResponses(403, 404, 429),
        },
      },
    },
    async (req, reply) => {
      const { record, bytes } = await app.apis.agentArtifact(tenantOf(req), req.params.sha256);
      return reply
        .type(API_ARTIFACT_CONTENT_TYPE)
        .header(ApiArtifactHeader.kind, record.kind)
        .header(ApiArtifactHeader.size, String(record.size))
        .header(ApiArtifactHeader.keyId, record.keyId)
        .header(ApiArtifactHeader.signature, record.signature)
        .header('cache-control', 'no-store')
        .send(bytes);
    },
  );

  app.get(
    REGISTRY_KEYS_PATH,
    {
      config: { auth: 'agent-key' },
      schema: {
        operationId: 'getRegistryKeys',
        tags: ['agents'],
        description:
          "The public keys the SDK factory's registry signs artifacts with (base64 SPKI DER): an agent pins them the first time it asks, and refuses artifacts signed by any other key afterwards.",
        response: { 200: RegistryPublicKeys, ...errorResponses(403, 429) },
      },
    },
    async () => app.apis.registryKeys(),
  );
};

export default fp(agentArtifactRoutes, {
  name: 'agent-artifact-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'api-service'],
});
