import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { AuditRepository, Repositories } from '@vansales/metadata';
import { DoctorWarning } from '@vansales/protocol';
import type { AgentHub } from '../agent-hub/agent-hub';
import { GatewayError, GatewayErrorCode } from '../errors';
import { keyEventsChain, type KeyService } from './key-service';
import type { TenantService } from './tenant-service';
import { requireConnector } from './ownership';

export function createConnectorService(deps: {
  repos: Repositories;
  hub: AgentHub;
  auditRepo: AuditRepository;
  tenants: TenantService;
  keys: KeyService;
}) {
  const { repos, hub, auditRepo, tenants, keys } = deps;
  return {
    /** Creates a connector and its first key; the key is returned here and never again. */
    async create(tenantId: string, name: string) {
      await tenants.require(tenantId);
      if (await repos.findConnectorByName(tenantId, name)) {
        throw new GatewayError(GatewayErrorCode.conflict, `tenant ${tenantId} already has a connector named ${name}`);
      }
      const connector = await repos.createConnector({ id: randomUUID(), tenantId, name });
      const apiKey = await keys.issue(tenantId, connector.id);
      return { ...connector, apiKey };
    },

    /** Each connector with whether its agent is connected (to any node) and what its last hello said. */
    async list(tenantId: string) {
      const connectors = await repos.listConnectorStatus(tenantId);
      const online = await hub.onlineAnywhere(connectors.map((c) => c.id));
      return connectors.map((c) => ({ ...c, online: online.has(c.id) }));
    },

    /**
     * For questions only a connected agent answers (its site policy): another tenant's connector is a
     * 404, an offline agent a 409 at once rather than a workflow that waits out its timeout.
     */
    async requireOnline(tenantId: string, connectorId: string) {
      const connector = await requireConnector(repos, tenantId, connectorId);
      if (!(await hub.onlineAnywhere([connectorId])).has(connectorId)) {
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `the agent of connector ${connector.name} is offline: start it on the site, then ask again`,
        );
      }
    },

    /** Machines that tried a key bound to another machine. */
    async refusals(tenantId: string, connectorId: string) {
      await requireConnector(repos, tenantId, connectorId);
      return repos.listConnectionRefusals(tenantId, connectorId);
    },

    /**
     * The latest doctor report of the connector's agent (null dates before it sent one). Stored
     * warnings were validated on arrival; they are parsed again so a row from an older release that
     * no longer fits the schema is left out rather than served.
     */
    async doctor(tenantId: string, connectorId: string) {
      await requireConnector(repos, tenantId, connectorId);
      const report = await repos.getDoctorReport(tenantId, connectorId);
      if (!report) return { checkedAt: null, receivedAt: null, warnings: [] };
      const warnings = report.warnings.flatMap((w) => {
        const parsed = DoctorWarning.safeParse(w);
        return parsed.success ? [parsed.data] : [];
      });
      return { checkedAt: report.checkedAt, receivedAt: report.receivedAt, warnings };
    },

    /**
     * Checks the gateway's audit chain of one connector and names the first broken link; its key
     * events (enrolments, re-binds) are checked too, and a break there is reported as such.
     */
    async verifyAudit(tenantId: string, connectorId: string) {
      await requireConnector(repos, tenantId, connectorId);
      const keyEvents = await auditRepo.verify(tenantId, keyEventsChain(connectorId));
      if (!keyEvents.ok) return { ...keyEvents, message: `key events chain: ${keyEvents.message}` };
      return auditRepo.verify(tenantId, connectorId);
    },
  };
}
export type ConnectorService = ReturnType<typeof createConnectorService>;

declare module 'fastify' {
  interface FastifyInstance {
    connectors: ConnectorService;
  }
}

export const connectorServicePlugin = fp<{ repos: Repositories; hub: AgentHub; auditRepo: AuditRepository }>(
  async (app, deps) =>
    void app.decorate('connectors', createConnectorService({ ...deps, tenants: app.tenants, keys: app.keys })),
  { name: 'connector-service', fastify: '5.x', dependencies: ['tenant-service', 'key-service'] },
);
