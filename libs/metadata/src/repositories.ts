import { sql } from 'kysely';
import type { MetadataDb } from './open-database';

/** Refusal rows kept per connector (the newest). */
export const REFUSALS_KEPT = 50;

export interface TenantRow {
  id: string;
  name: string;
}
export interface ConnectorRow {
  id: string;
  tenantId: string;
  name: string;
}

export interface ConnectorStatusRow extends ConnectorRow {
  /** As the agent's last hello said; null before its first connection. */
  agentVersion: string | null;
  /** The platform its last hello announced: only a single executable that can update itself sends one. */
  agentPlatform: string | null;
  databases: string[];
  /** The last hello or the last disconnection, whichever came later. */
  lastSeenAt: Date | null;
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

    /** Creates a tenant; false when the id is taken (one insert, so two creators cannot both win). */
    async createTenant(t: TenantRow): Promise<boolean> {
      const r = await db
        .insertInto('tenants')
        .values(t)
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
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

    /** The tenant's connectors with what each agent said at its last hello, and when it was last seen. */
    async listConnectorStatus(tenantId: string): Promise<ConnectorStatusRow[]> {
      const rows = await db
        .selectFrom('connectors')
        .select(['id', 'tenant_id', 'name', 'agent_version', 'agent_platform', 'agent_databases', 'last_seen_at'])
        .where('tenant_id', '=', tenantId)
        .orderBy('name')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        tenantId: r.tenant_id,
        name: r.name,
        agentVersion: r.agent_version,
        agentPlatform: r.agent_platform,
        databases: r.agent_databases === null ? [] : (JSON.parse(r.agent_databases) as string[]),
        lastSeenAt: r.last_seen_at,
      }));
    },

    /** An agent's hello: its version, platform and database names (names only), and the time it was seen. */
    async recordAgentHello(
      id: string,
      hello: { agentVersion: string; databases: string[]; platform?: string },
    ): Promise<void> {
      await db
        .updateTable('connectors')
        .set({
          agent_version: hello.agentVersion,
          agent_platform: hello.platform ?? null,
          agent_databases: JSON.stringify(hello.databases),
          last_seen_at: new Date(),
        })
        .where('id', '=', id)
        .execute();
    },

    async touchConnector(id: string): Promise<void> {
      await db.updateTable('connectors').set({ last_seen_at: new Date() }).where('id', '=', id).execute();
    },

    async insertAgentKey(k: {
      connectorId: string;
      tenantId: string;
      lookup: string;
      hash: Buffer;
      /** Until when the key may enrol its agent's public key. */
      enrolUntil: Date;
    }): Promise<void> {
      await db
        .insertInto('agent_keys')
        .values({
          connector_id: k.connectorId,
          tenant_id: k.tenantId,
          lookup: k.lookup,
          hash: k.hash,
          enrol_until: k.enrolUntil,
        })
        .execute();
    },

    async findAgentKey(lookup: string) {
      const row = await db
        .selectFrom('agent_keys')
        .select(['connector_id', 'tenant_id', 'hash', 'revoked_at', 'bound_machine_id', 'public_key', 'enrol_until'])
        .where('lookup', '=', lookup)
        .executeTakeFirst();
      return (
        row && {
          connectorId: row.connector_id,
          tenantId: row.tenant_id,
          hash: Buffer.from(row.hash),
          revokedAt: row.revoked_at,
          boundMachineId: row.bound_machine_id,
          publicKey: row.public_key,
          enrolUntil: row.enrol_until,
        }
      );
    },

    /**
     * Enrols the public key if the key has none and may still enrol; true when this call enrolled it.
     * The conditional update makes two enrolments race safely: one key pair wins.
     */
    async enrolAgentKey(lookup: string, publicKey: string, now = new Date()): Promise<boolean> {
      const result = await db
        .updateTable('agent_keys')
        .set({ public_key: publicKey, enrolled_at: now, enrol_until: null })
        .where('lookup', '=', lookup)
        .where('public_key', 'is', null)
        .where('revoked_at', 'is', null)
        .where('enrol_until', '>', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * An operator's re-binding of the connector's live keys: either to a given public key at once, or
     * back to "may enrol" until `enrolUntil` (the next agent to enrol wins). Returns the keys changed.
     */
    async rebindAgentKeys(
      tenantId: string,
      connectorId: string,
      to: { publicKey: string } | { enrolUntil: Date },
    ): Promise<number> {
      const result = await db
        .updateTable('agent_keys')
        .set(
          'publicKey' in to
            ? { public_key: to.publicKey, enrolled_at: new Date(), enrol_until: null, bound_machine_id: null }
            : { public_key: null, enrolled_at: null, enrol_until: to.enrolUntil, bound_machine_id: null },
        )
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /**
     * Stores a challenge for the key and drops expired ones, and all but the newest `keep` of this
     * key, so an agent (or a thief with its key) cannot fill the table.
     */
    async insertAgentChallenge(
      c: { id: string; keyLookup: string; tenantId: string; connectorId: string; nonce: string; expiresAt: Date },
      keep = 8,
    ): Promise<void> {
      await db.deleteFrom('agent_challenges').where('expires_at', '<', new Date()).execute();
      await db
        .insertInto('agent_challenges')
        .values({
          id: c.id,
          key_lookup: c.keyLookup,
          tenant_id: c.tenantId,
          connector_id: c.connectorId,
          nonce: c.nonce,
          expires_at: c.expiresAt,
        })
        .execute();
      const stale = await db
        .selectFrom('agent_challenges')
        .select('id')
        .where('key_lookup', '=', c.keyLookup)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .offset(keep)
        .limit(1000)
        .execute();
      if (stale.length > 0)
        await db
          .deleteFrom('agent_challenges')
          .where(
            'id',
            'in',
            stale.map((r) => r.id),
          )
          .execute();
    },

    /**
     * Takes a challenge out of the store (single use, whatever the outcome of its check); undefined
     * when it does not exist, was used, or expired.
     */
    async takeAgentChallenge(id: string, now = new Date()) {
      const row = await db
        .deleteFrom('agent_challenges')
        .where('id', '=', id)
        .returning(['key_lookup', 'tenant_id', 'connector_id', 'nonce', 'expires_at'])
        .executeTakeFirst();
      if (!row || row.expires_at <= now) return undefined;
      return { keyLookup: row.key_lookup, tenantId: row.tenant_id, connectorId: row.connector_id, nonce: row.nonce };
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
      // Bounded: the newest REFUSALS_KEPT per connector are enough to see who tries; a flood of
      // refusals must not grow the table without end (the throttle counts the rest).
      await sql`DELETE FROM agent_connection_refusals WHERE tenant_id = ${r.tenantId} AND connector_id = ${r.connectorId}
        AND id NOT IN (SELECT id FROM agent_connection_refusals WHERE tenant_id = ${r.tenantId}
          AND connector_id = ${r.connectorId} ORDER BY id DESC LIMIT ${REFUSALS_KEPT})`.execute(db);
    },

    async listConnectionRefusals(tenantId: string, connectorId: string) {
      const rows = await db
        .selectFrom('agent_connection_refusals')
        .select(['key_lookup', 'machine_id', 'reason', 'at'])
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ keyId: r.key_lookup, machineId: r.machine_id, reason: r.reason, at: r.at }));
    },

    /** The connector's keys, oldest first: lookup ids and dates, never the hash. */
    async listAgentKeys(tenantId: string, connectorId: string) {
      const rows = await db
        .selectFrom('agent_keys')
        .select(['lookup', 'created_at', 'last_used_at', 'revoked_at', 'public_key', 'enrolled_at', 'enrol_until'])
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        lookup: r.lookup,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        revokedAt: r.revoked_at,
        publicKey: r.public_key,
        enrolledAt: r.enrolled_at,
        enrolUntil: r.enrol_until,
      }));
    },

    /** Revokes one key of the connector; false when it has no live key by that lookup id. */
    async revokeAgentKey(tenantId: string, connectorId: string, lookup: string): Promise<boolean> {
      const result = await db
        .updateTable('agent_keys')
        .set({ revoked_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .where('lookup', '=', lookup)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** The key opened a session now (the key list's "last used"). */
    async touchAgentKey(lookup: string): Promise<void> {
      await db.updateTable('agent_keys').set({ last_used_at: new Date() }).where('lookup', '=', lookup).execute();
    },

    /** Replaces the connector's doctor report (the caller validated and bounded the warnings). */
    async recordDoctorReport(r: { tenantId: string; connectorId: string; checkedAt: Date; warnings: unknown[] }) {
      const row = {
        checked_at: r.checkedAt,
        received_at: new Date(),
        warnings: JSON.stringify(r.warnings),
      };
      await db
        .insertInto('connector_doctor_reports')
        .values({ tenant_id: r.tenantId, connector_id: r.connectorId, ...row })
        .onConflict((oc) => oc.columns(['tenant_id', 'connector_id']).doUpdateSet(row))
        .execute();
    },

    /** The connector's latest doctor report; undefined before its agent sent one. */
    async getDoctorReport(tenantId: string, connectorId: string) {
      const row = await db
        .selectFrom('connector_doctor_reports')
        .select(['checked_at', 'received_at', 'warnings'])
        .where('tenant_id', '=', tenantId)
        .where('connector_id', '=', connectorId)
        .executeTakeFirst();
      return (
        row && {
          checkedAt: row.checked_at,
          receivedAt: row.received_at,
          warnings: JSON.parse(row.warnings) as unknown[],
        }
      );
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
