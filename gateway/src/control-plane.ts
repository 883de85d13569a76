import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import { ApplicationFailure, type Workflow } from '@temporalio/common';
import { generateApiKey, checkApiKey, hashApiKey, hashesEqual, describeApiKey, CloseCode } from '@vansales/protocol';
import type { AuditRepository, Repositories, SchemaRegistry } from '@vansales/metadata';
import type { SchemaRecorded } from '@vansales/activities';
import { SearchAttribute } from '@vansales/temporal-config';
import { agentQueryWorkflow, dataSyncWorkflow, runSyncNowSignal, schemaDiscoveryWorkflow, syncStateQuery, type AgentQueryInput, type AgentQueryOutput, type DataSyncInput, type SchemaDiscoveryInput, type SyncState } from '@vansales/workflows';
import { GatewayError, GatewayErrorCode } from './errors';
import type { AgentHub } from './agent-hub/agent-hub';
import type { AgentIdentity } from './agent-hub/agent-connection';

/** The control-plane operations behind the REST routes and the CLI. */
export function createControlPlane(deps: {
  repos: Repositories;
  temporal: Client;
  hub: AgentHub;
  auditRepo: AuditRepository;
  schemaRegistry: SchemaRegistry;
  workflowTaskQueue: string;
  /** Where cloud activities run (syncs that touch cloud databases). */
  cloudTaskQueue?: string;
}) {
  const { repos, temporal, hub, auditRepo, schemaRegistry, workflowTaskQueue } = deps;

  /** Every built-in workflow starts on the workflow queue, tagged with its tenant, connector and definition. */
  function startWorkflow<W extends Workflow>(workflow: W, workflowId: string, definitionId: string, input: Parameters<W>[0] & { tenantId: string; connectorId: string }) {
    return temporal.workflow.start(workflow, {
      taskQueue: workflowTaskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [
        { key: SearchAttribute.TenantId, value: input.tenantId },
        { key: SearchAttribute.ConnectorId, value: input.connectorId },
        { key: SearchAttribute.DefinitionId, value: definitionId },
      ],
      // WorkflowStartOptions is a conditional type TypeScript cannot resolve for a generic W; the input's
      // type is still checked at each call (Parameters<W>[0]).
    } as unknown as WorkflowStartOptions<W>);
  }

  /** A workflow's result, or its failure as a 422 naming the root cause and its type. */
  async function resultOf<T>(handle: WorkflowHandle): Promise<T> {
    try {
      return (await handle.result()) as T;
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const cause = rootCause(err);
        throw new GatewayError(GatewayErrorCode.workflowFailed, cause.message, { workflowId: handle.workflowId, type: cause.type });
      }
      throw err;
    }
  }

  async function requireConnector(tenantId: string, connectorId: string) {
    const connector = await repos.getConnector(tenantId, connectorId);
    // The same answer for "not yours" and "does not exist": no probing other tenants' ids.
    if (!connector) throw new GatewayError(GatewayErrorCode.notFound, `connector ${connectorId} not found in tenant ${tenantId}`);
    return connector;
  }

  return {
    async createTenant(input: { id: string; name: string }) {
      return repos.upsertTenant(input);
    },

    /** Creates a connector and its first key; the key is returned here and never again. */
    async createConnector(tenantId: string, name: string) {
      if (!(await repos.getTenant(tenantId))) throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} not found`);
      if (await repos.findConnectorByName(tenantId, name)) {
        throw new GatewayError(GatewayErrorCode.conflict, `tenant ${tenantId} already has a connector named ${name}`);
      }
      const connector = await repos.createConnector({ id: randomUUID(), tenantId, name });
      const apiKey = await this.issueKey(tenantId, connector.id);
      return { ...connector, apiKey };
    },

    async issueKey(tenantId: string, connectorId: string): Promise<string> {
      await requireConnector(tenantId, connectorId);
      const apiKey = generateApiKey(tenantId);
      const parsed = checkApiKey(apiKey);
      if (!parsed.ok) throw new Error('generated key failed its own check');
      await repos.insertAgentKey({ connectorId, tenantId, lookup: parsed.key.lookup, hash: hashApiKey(apiKey) });
      return apiKey;
    },

    async revokeKeys(tenantId: string, connectorId: string) {
      await requireConnector(tenantId, connectorId);
      const revoked = await repos.revokeAgentKeys(tenantId, connectorId);
      const disconnected = await hub.disconnect(connectorId, CloseCode.keyRevoked, 'the API key of this connector was revoked');
      return { revoked, disconnected };
    },

    /**
     * Discovers one site database through its agent (a workflow) and records the snapshot as a
     * new version when the structure changed. Runs when an agent connects, and on demand.
     */
    async discoverSchema(tenantId: string, connectorId: string, database: string) {
      await requireConnector(tenantId, connectorId);
      const handle = await startWorkflow(schemaDiscoveryWorkflow, `schema-${connectorId}-${database}-${randomUUID()}`, 'builtin.schema-discovery', {
        tenantId,
        connectorId,
        database,
      } satisfies SchemaDiscoveryInput);
      return { workflowId: handle.workflowId, ...(await resultOf<SchemaRecorded>(handle)) };
    },

    async schemaVersions(tenantId: string, connectorId: string, database: string) {
      await requireConnector(tenantId, connectorId);
      return schemaRegistry.listVersions(tenantId, connectorId, database);
    },

    async schemaSnapshot(tenantId: string, connectorId: string, database: string, version?: number) {
      await requireConnector(tenantId, connectorId);
      const stored = await schemaRegistry.getSnapshot(tenantId, connectorId, database, version);
      if (!stored) throw new GatewayError(GatewayErrorCode.notFound, `no schema snapshot of ${database}${version ? ` version ${version}` : ''} for connector ${connectorId}`);
      return stored;
    },

    async schemaDiff(tenantId: string, connectorId: string, database: string, from: number, to: number) {
      await requireConnector(tenantId, connectorId);
      return schemaRegistry.diffVersions(tenantId, connectorId, database, from, to);
    },

    /** Checks the gateway's audit chain of one connector; names the first broken link. */
    async verifyAudit(tenantId: string, connectorId: string) {
      await requireConnector(tenantId, connectorId);
      return auditRepo.verify(tenantId, connectorId);
    },

    async listConnectors(tenantId: string) {
      const connectors = await repos.listConnectors(tenantId);
      return connectors.map((c) => ({ ...c, online: hub.isOnline(c.id) }));
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
      if (stored.revokedAt) throw new GatewayError(GatewayErrorCode.forbidden, 'this API key was revoked; ask for a new key', { reason: 'key-revoked' });
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
      return { tenantId: stored.tenantId, connectorId: stored.connectorId, keyLabel: describeApiKey(check.key) };
    },

    async listConnectionRefusals(tenantId: string, connectorId: string) {
      await requireConnector(tenantId, connectorId);
      return repos.listConnectionRefusals(tenantId, connectorId);
    },

    /** Starts the agent query workflow; with wait, returns its result. */
    async startQuery(tenantId: string, input: Omit<AgentQueryInput, 'tenantId'>, wait: boolean) {
      await requireConnector(tenantId, input.connectorId);
      const handle = await startWorkflow(agentQueryWorkflow, `query-${randomUUID()}`, 'builtin.agent-query', { ...input, tenantId } satisfies AgentQueryInput);
      const started = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      if (!wait) return started;
      return { ...started, result: await resultOf<AgentQueryOutput>(handle) };
    },

    /** Starts a data sync; every connector it names must belong to the tenant. */
    async startSync(tenantId: string, input: Omit<DataSyncInput, 'tenantId' | 'state' | 'cloudTaskQueue'>) {
      for (const end of [input.source, input.destination]) if (end.placement === 'connector') await requireConnector(tenantId, end.connectorId);
      const connectorId = input.source.placement === 'connector' ? input.source.connectorId : input.destination.placement === 'connector' ? input.destination.connectorId : 'cloud';
      const handle = await startWorkflow(dataSyncWorkflow, `sync-${randomUUID()}`, 'builtin.data-sync', { ...input, tenantId, connectorId, cloudTaskQueue: deps.cloudTaskQueue });
      return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    },

    /** A sync's status and state (cursors, rows), for its own tenant only. */
    async syncStatus(tenantId: string, workflowId: string) {
      const handle = await ownSync(tenantId, workflowId);
      const description = await handle.describe();
      const state = description.status.name === 'RUNNING' ? await handle.query(syncStateQuery) : ((await resultOf<SyncState>(handle).catch(() => undefined)) ?? null);
      return { workflowId, status: description.status.name, state };
    },

    /** Starts a sync's next run now instead of at the end of its interval. */
    async runSyncNow(tenantId: string, workflowId: string) {
      const handle = await ownSync(tenantId, workflowId);
      await handle.signal(runSyncNowSignal);
      return { workflowId, signalled: true };
    },
  };

  /** The same 404 for another tenant's sync and for none at all. */
  async function ownSync(tenantId: string, workflowId: string) {
    const handle = temporal.workflow.getHandle(workflowId);
    const description = await handle.describe().catch(() => undefined);
    const owner = description?.typedSearchAttributes.get(SearchAttribute.TenantId);
    if (!description || description.type !== dataSyncWorkflow.name || owner !== tenantId) throw new GatewayError(GatewayErrorCode.notFound, `sync ${workflowId} not found in tenant ${tenantId}`);
    return handle;
  }
}
export type ControlPlane = ReturnType<typeof createControlPlane>;

function rootCause(err: Error): { message: string; type?: string } {
  let current: Error | undefined = err;
  let last: { message: string; type?: string } = { message: err.message };
  while (current) {
    last = { message: current.message, type: current instanceof ApplicationFailure ? (current.type ?? undefined) : last.type };
    current = (current as { cause?: Error }).cause;
  }
  return last;
}
