import type { FastifyPluginAsync } from 'fastify';
import { AgentConnection, type AgentIdentity } from '../agent-hub/agent-connection';
import type { AgentHub } from '../agent-hub/agent-hub';
import type { ControlPlane } from '../control-plane';
import { GatewayError, GatewayErrorCode } from '../errors';
import { bearerToken } from './bearer';
import { MACHINE_ID_HEADER } from '@vansales/protocol';

declare module 'fastify' {
  interface FastifyRequest {
    agentIdentity?: AgentIdentity;
  }
}

/**
 * The agents' WebSocket endpoint. The key comes in the upgrade request's Authorization header
 * (never the URL) and is checked before the upgrade, so a bad key gets a plain HTTP 401/403.
 */
export const agentSocketRoute: FastifyPluginAsync<{ hub: AgentHub; controlPlane: ControlPlane; maxFrameBytes?: number; frameTap?: (raw: string) => void }> = async (
  app,
  { hub, controlPlane, maxFrameBytes, frameTap },
) => {
  app.get(
    '/v1/agent/connect',
    {
      websocket: true,
      preValidation: async (req) => {
        const key = bearerToken(req.headers.authorization);
        if (!key) throw new GatewayError(GatewayErrorCode.unauthorized, 'missing Authorization: Bearer <agent API key> header');
        const machineId = req.headers[MACHINE_ID_HEADER];
        if (typeof machineId !== 'string' || !/^[A-Za-z0-9._-]{8,128}$/.test(machineId)) {
          throw new GatewayError(GatewayErrorCode.badRequest, `missing or malformed ${MACHINE_ID_HEADER} header (8-128 letters, digits, . _ -)`);
        }
        req.agentIdentity = await controlPlane.authenticateAgent(key, machineId);
      },
    },
    (socket, req) => {
      const identity = req.agentIdentity;
      if (!identity) return socket.close(4401, 'unauthenticated');
      const connection = new AgentConnection(socket, identity, req.log, maxFrameBytes, frameTap);
      void hub.serve(connection).catch((err) => {
        req.log.error({ err: String(err) }, 'agent session failed');
        connection.close(1011, 'gateway error');
      });
    },
  );
};
