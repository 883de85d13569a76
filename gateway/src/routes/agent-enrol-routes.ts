import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AGENT_CHALLENGE_PATH, AGENT_ENROL_PATH, AgentChallenge, AgentEnrolment } from '@vansales/protocol';
import { GatewayError, GatewayErrorCode } from '../errors';
import { errorResponses } from './schemas';

/**
 * The steps before an agent's WebSocket: a fresh challenge to sign, and (once per key, at `init`) the
 * enrolment of the agent's public key. Both need the API key; neither needs a proof yet.
 */
const agentEnrolRoutes: FastifyPluginAsyncZod = async (app) => {
  const apiKeyOf = (principal: { kind: string; apiKey?: string }) => {
    if (principal.kind !== 'agent-key' || !principal.apiKey)
      throw new GatewayError(GatewayErrorCode.internal, 'agent route reached without an agent key');
    return principal.apiKey;
  };

  app.post(
    AGENT_CHALLENGE_PATH,
    {
      config: { auth: 'agent-key-unproven' },
      schema: {
        operationId: 'issueAgentChallenge',
        tags: ['agents'],
        description:
          "A single-use challenge the agent signs with its enrolled key pair to open its WebSocket; also says whether the key's key pair is enrolled yet.",
        response: { 200: AgentChallenge, ...errorResponses(403, 429) },
      },
    },
    async (req) => {
      const apiKey = apiKeyOf(req.principal);
      return app.guardAgentAuth(req, apiKey, () => app.keys.challenge(apiKey));
    },
  );

  app.post(
    AGENT_ENROL_PATH,
    {
      config: { auth: 'agent-key-unproven' },
      schema: {
        operationId: 'enrolAgentKeyPair',
        tags: ['agents'],
        description:
          "Binds the API key to the agent's public key, once, within the key's enrolment window (mini-connector init does it). Signed by that key over a challenge.",
        body: AgentEnrolment,
        response: {
          200: z.object({
            tenantId: z.string(),
            connectorId: z.string(),
            publicKey: z.string().describe('fingerprint of the enrolled key'),
            enrolled: z.boolean().describe('false when this key pair was already enrolled'),
          }),
          ...errorResponses(403, 429),
        },
      },
    },
    async (req) => {
      const apiKey = apiKeyOf(req.principal);
      return app.guardAgentAuth(req, apiKey, () => app.keys.enrol(apiKey, req.body, app.proofContext(req)));
    },
  );
};

export default fp(agentEnrolRoutes, {
  name: 'agent-enrol-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'key-service'],
});
