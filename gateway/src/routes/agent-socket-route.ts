import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AGENT_CHALLENGE_PATH, AgentProofHeader } from '@vansales/protocol';
import { AgentConnection, type AgentConnectionLimits } from '../agent-hub/agent-connection';
import type { AgentHub } from '../agent-hub/agent-hub';
import { errorResponses } from './schemas';

/**
 * The agents' WebSocket endpoint. The key comes in the upgrade request's Authorization header
 * (never the URL) with a signature by the agent's enrolled key pair over a fresh challenge; both are
 * checked by the auth hook before the upgrade, so a bad key or proof gets a plain HTTP 401/403.
 */
const agentSocketRoute: FastifyPluginAsyncZod<{
  hub: AgentHub;
  maxFrameBytes?: number;
  frameTap?: (raw: string) => void;
  limits?: Partial<AgentConnectionLimits>;
}> = async (app, { hub, maxFrameBytes, frameTap, limits }) => {
  app.get(
    '/v1/agent/connect',
    {
      websocket: true,
      config: { auth: 'agent-key' },
      schema: {
        operationId: 'connectAgent',
        tags: ['agents'],
        description: `The agent's WebSocket (protocol frames in @vansales/protocol). Besides the key, needs the ${AgentProofHeader.challenge} header (a challenge from POST ${AGENT_CHALLENGE_PATH}) and ${AgentProofHeader.proof} (its signature by the agent's enrolled key pair).`,
        response: { 101: z.null().describe('switching to the WebSocket protocol'), ...errorResponses(403, 429) },
      },
    },
    (socket, req) => {
      const principal = req.principal;
      if (principal?.kind !== 'agent') return socket.close(4401, 'unauthenticated');
      const connection = new AgentConnection(socket, principal.identity, req.log, maxFrameBytes, frameTap, limits);
      void hub.serve(connection).catch((err) => {
        req.log.error({ err: String(err) }, 'agent session failed');
        connection.close(1011, 'gateway error');
      });
    },
  );
};

export default fp(agentSocketRoute, {
  name: 'agent-socket-route',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth'],
});
