import type { ColumnType, Generated } from 'kysely';

/** Row types of the metadata store, one interface per table. */
export interface TenantsTable {
  id: string;
  name: string;
  created_at: ColumnType<Date, never, never>;
}

export interface ConnectorsTable {
  id: string;
  tenant_id: string;
  name: string;
  created_at: ColumnType<Date, never, never>;
  last_seen_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface AgentKeysTable {
  id: Generated<number>;
  connector_id: string;
  tenant_id: string;
  /** Non-secret lookup part of the key, so the hash compare happens on one row in constant time. */
  lookup: string;
  /** SHA-256 of the whole key; the key itself is never stored. */
  hash: Buffer;
  created_at: ColumnType<Date, never, never>;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface Database {
  tenants: TenantsTable;
  connectors: ConnectorsTable;
  agent_keys: AgentKeysTable;
}
