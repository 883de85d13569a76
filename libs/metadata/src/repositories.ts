import type { MetadataDb } from './open-database';

export interface TenantRow {
  id: string;
  name: string;
}
export interface ConnectorRow {
  id: string;
  tenantId: string;
  name: string;
}

/** Data access for tenants, connectors and agent key hashes. Every connector read is tenant-scoped. */
export function createRepositories(db: MetadataDb) {
  return {
    async upsertTenant(t: TenantRow): Promise<TenantRow> {
      await db
        .insertInto('tenants')
        .values(t)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const row = await db
        .selectFrom('tenants')
        .select(['id', 'name'])
        .where('id', '=', t.id)
        .executeTakeFirstOrThrow();
      return row;
    },

    async getTenant(id: string): Promise<TenantRow | undefined> {
      return db.selectFrom('tenants').select(['id', 'name']).where('id', '=', id).executeTakeFirst();
    },

    async createConnector(c: ConnectorRow): Promise<ConnectorRow> {
      await db.insertInto('connectors').values({ id: c.id, tenant_id: c.tenantId, name: c.name }).execute();
      return c;
    },

    async findConnectorByName(tenantId: string, name: string): Promise<ConnectorRow | undefined> {
      const row = await db
        .selectFrom('connectors')
        .select(['id', 'tenant_id', 'name'])
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row && { id: row.id, tenantId: row.tenant_id, name: row.name };
    },

    async getConnector(tenantId: string, id: string): Promise<ConnectorRow | undefined> {
      const row = await db
        .selectFrom('connectors')
        .select(['id', 'tenant_id', 'name'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && { id: row.id, tenantId: row.tenant_id, name: row.name };
    },

    async listConnectors(tenantId: string): Promise<ConnectorRow[]> {
      const rows = await db
        .selectFrom('connectors')
        .select(['id', 'tenant_id', 'name'])
        .where('tenant_id', '=', tenantId)
        .orderBy('name')
        .execute();
      return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, name: r.name }));
    },

    async touchConnector(id: string): Promise<void> {
      await db.updateTable('connectors').set({ last_seen_at: new Date() }).where('id', '=', id).execute();
    },

    async insertAgentKey(k: { connectorId: string; tenantId: string; lookup: string; hash: Buffer }): Promise<void> {
      await db
        .insertInto('agent_keys')
        .values({ connector_id: k.connectorId, tenant_id: k.tenantId, lookup: k.lookup, hash: k.hash })
        .execute();
    },

    async findAgentKey(lookup: string) {
      const row = await db
        .selectFrom('agent_keys')
        .select(['connector_id', 'tenant_id', 'hash', 'revoked_at', 'bound_machine_id'])
        .where('lookup', '=', lookup)
        .executeTakeFirst();
      return (
        row && {
          connectorId: row.connector_id,
          tenantId: row.tenant_id,
          hash: Buffer.from(row.hash),
          revokedAt: row.revoked_at,
          boundMachineId: row.bound_machine_id,
        }
      );
    },

    /**
     * Binds the key to a machine if it is not bound yet, and returns the machine it is bound to.
     * The conditional update makes two first connections race safely: one machine wins.
     */
    async bindAgentKey(lookup: string, machineId: string): Promise<string | null> {
      await db
        .updateTable('agent_keys')
        .set({ bound_machine_id: machineId, bound_at: new Date() })
        .where('lookup', '=', lookup)
        .where('bound_machine_id', 'is', null)
        .execute();
      const row = await db
        .selectFrom('agent_keys')
        .select('bound_machine_id')
        .where('lookup', '=', lookup)
        .executeTakeFirst();
      return row?.bound_machine_id ?? null;
    },

    async recordConnectionRefusal(r: {
      tenantId: string;
      connectorId: string;
      keyLookup: string;
      machineId: string;
      reason: string;
    }): Promise<void> {
      await db
        .insertInto('agent_connection_refusals')
        .values({
          tenant_id: r.tenantId,
          connector_id: r.connectorId,
          key_lookup: r.keyLookup,
          machine_id: r.machineId.slice(0, 128),
          reason: r.reason,
        })
        .execute();
    },

    async listConnectionRefusals(tenantId: string, connectorId: string) {
      const rows = await db
        .selectFrom('agent_connection_refusals')
        .select(['machine_id', 'reason', 'at'])
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ machineId: r.machine_id, reason: r.reason, at: r.at }));
    },

    async revokeAgentKeys(tenantId: string, connectorId: string): Promise<number> {
      const result = await db
        .updateTable('agent_keys')
        .set({ revoked_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
