import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import { SchemaRegistryError, type Repositories, type SchemaRegistry } from '@vansales/metadata';
import type { SchemaRecorded } from '@vansales/activities';
import { schemaDiscoveryWorkflow, type SchemaDiscoveryInput } from '@vansales/workflows';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { WorkflowRuns } from './workflow-runs';
import { requireConnector } from './ownership';

/** The schema registry of each site database: discovery through the agent, versions, snapshots, diffs. */
export function createSchemaService(deps: {
  repos: Repositories;
  schemaRegistry: SchemaRegistry;
  workflowRuns: WorkflowRuns;
}) {
  const { repos, schemaRegistry, workflowRuns } = deps;
  return {
    /**
     * Discovers one site database through its agent (a workflow) and records the snapshot as a
     * new version when the structure changed. Runs when an agent connects, and on demand.
     */
    async discover(tenantId: string, connectorId: string, database: string, signal?: AbortSignal) {
      await requireConnector(repos, tenantId, connectorId);
      const handle = await workflowRuns.start(
        schemaDiscoveryWorkflow,
        `schema-${connectorId}-${database}-${randomUUID()}`,
        'builtin.schema-discovery',
        {
          tenantId,
          connectorId,
          database,
        } satisfies SchemaDiscoveryInput,
      );
      return { workflowId: handle.workflowId, ...(await workflowRuns.result<SchemaRecorded>(handle, signal)) };
    },

    async versions(tenantId: string, connectorId: string, database: string) {
      await requireConnector(repos, tenantId, connectorId);
      return schemaRegistry.listVersions(tenantId, connectorId, database);
    },

    async snapshot(tenantId: string, connectorId: string, database: string, version?: number) {
      await requireConnector(repos, tenantId, connectorId);
      const stored = await schemaRegistry.getSnapshot(tenantId, connectorId, database, version);
      if (!stored)
        throw new GatewayError(
          GatewayErrorCode.notFound,
          `no schema snapshot of ${database}${version ? ` version ${version}` : ''} for connector ${connectorId}`,
        );
      return stored;
    },

    async diff(tenantId: string, connectorId: string, database: string, from: number, to: number) {
      await requireConnector(repos, tenantId, connectorId);
      try {
        return await schemaRegistry.diffVersions(tenantId, connectorId, database, from, to);
      } catch (err) {
        // The registry's "no such version" is the caller's 404, as for a snapshot (it was a 500).
        if (err instanceof SchemaRegistryError && err.code === 'unknown-version')
          throw new GatewayError(GatewayErrorCode.notFound, err.message);
        throw err;
      }
    },
  };
}
export type SchemaService = ReturnType<typeof createSchemaService>;

declare module 'fastify' {
  interface FastifyInstance {
    schemas: SchemaService;
  }
}

export const schemaServicePlugin = fp<{ repos: Repositories; schemaRegistry: SchemaRegistry }>(
  async (app, deps) => void app.decorate('schemas', createSchemaService({ ...deps, workflowRuns: app.workflowRuns })),
  { name: 'schema-service', fastify: '5.x', dependencies: ['workflow-runs'] },
);
