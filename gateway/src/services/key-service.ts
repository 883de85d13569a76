import fp from 'fastify-plugin';
import { checkApiKey, CloseCode, describeApiKey, generateApiKey, hashApiKey, hashesEqual } from '@vansales/protocol';
import type { Repositories } from '@vansales/metadata';
import type { AgentHub } from '../agent-hub/agent-hub';
import type { AgentIdentity } from '../agent-hub/agent-connection';
import { GatewayError, GatewayErrorCode } from '../errors';
import { requireConnector } from './ownership';

/** Agent API keys: issued once, stored as hashes, bound to the first machine that uses them, revoked at once. */
export function createKeyService(deps: { repos: Repositories; hub: AgentHub }) {
  const { repos, hub } = deps;
  return {
    /** A new key for the connector; it is returned here and never again. */
    async issue(tenantId: string, connectorId: string): Promise<string> {
      await requireConnector(repos, tenantId, connectorId);
      const apiKey = generateApiKey(tenantId);
      const parsed = checkApiKey(apiKey);
      if (!parsed.ok) throw new Error('generated key failed its own check');
      await repos.insertAgentKey({ connectorId, tenantId, lookup: parsed.key.lookup, hash: hashApiKey(apiKey) });
      return apiKey;
    },

    /** Revokes every key of the connector and drops its agent, if connected. */
    async revoke(tenantId: string, connectorId: string) {
      await requireConnector(repos, tenantId, connectorId);
      const revoked = await repos.revokeAgentKeys(tenantId, connectorId);
      // Every gateway node cuts the connector's session and pending handshakes; `disconnected` says whether this one held it.
      const disconnected = await hub.revoke(
        connectorId,
        CloseCode.keyRevoked,
        'the API key of this connector was revoked',
      );
      return { revoked, disconnected };
    },

    /**
     * Resolves an agent's key to its connector, or explains why not (without echoing the key).
     * The first machine to use a key owns it; the same key from another machine is refused and recorded.
     */
    async authenticateAgent(rawKey: string, machineId: string): Promise<AgentIdentity> {
      const check = checkApiKey(rawKey);
      if (!check.ok) throw new GatewayError(GatewayErrorCode.unauthorized, check.reason);
      const stored = await repos.findAgentKey(check.key.lookup);
      if (!stored || !hashesEqual(stored.hash, hashApiKey(rawKey)) || stored.tenantId !== check.key.tenantId) {
        throw new GatewayError(GatewayErrorCode.unauthorized, 'unknown API key');
      }
      if (stored.revokedAt)
        throw new GatewayError(GatewayErrorCode.forbidden, 'this API key was revoked; ask for a new key', {
          reason: 'key-revoked',
        });
      const boundTo = stored.boundMachineId ?? (await repos.bindAgentKey(check.key.lookup, machineId));
      if (boundTo !== machineId) {
        await repos.recordConnectionRefusal({
          tenantId: stored.tenantId,
          connectorId: stored.connectorId,
          keyLookup: check.key.lookup,
          machineId,
          reason: 'key bound to another machine',
        });
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          'this API key is bound to the machine that first used it; issue a new key for this machine (each agent instance needs its own key)',
          { reason: 'machine-mismatch' },
        );
      }
      return {
        tenantId: stored.tenantId,
        connectorId: stored.connectorId,
        keyLabel: describeApiKey(check.key),
        keyLookup: check.key.lookup,
      };
    },
  };
}
export type KeyService = ReturnType<typeof createKeyService>;

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyService;
  }
}

export const keyServicePlugin = fp<{ repos: Repositories; hub: AgentHub }>(
  async (app, deps) => void app.decorate('keys', createKeyService(deps)),
  { name: 'key-service', fastify: '5.x' },
);
