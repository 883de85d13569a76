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
  agent_version: ColumnType<string | null, string | null | undefined, string | null>;
  /** JSON array of the database names the agent's hello listed. */
  agent_databases: ColumnType<string | null, string | null | undefined, string | null>;
  /** The platform its agent announced at its last hello (migration 0025); null: not updatable, or never connected. */
  agent_platform: ColumnType<string | null, string | null | undefined, string | null>;
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
  /** Hash of the machine id of the first agent that used the key. */
  bound_machine_id: string | null;
  bound_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The enrolled Ed25519 public key (SPKI DER, base64url): every connection proves its private half. */
  public_key: string | null;
  enrolled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Until when a key without a public key may enrol one (null: it may not). */
  enrol_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When the key last opened an agent session (0023). */
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface ConnectorDoctorReportsTable {
  tenant_id: string;
  connector_id: string;
  /** The agent's clock when it ran the checks. */
  checked_at: Date;
  received_at: ColumnType<Date, Date | undefined, Date>;
  /** JSON array of DoctorWarning (@vansales/protocol), validated and bounded before it is written. */
  warnings: string;
}

export interface AgentChallengesTable {
  id: string;
  key_lookup: string;
  tenant_id: string;
  connector_id: string;
  nonce: string;
  expires_at: Date;
  created_at: ColumnType<Date, never, never>;
}

export interface AgentConnectionRefusalsTable {
  id: Generated<number>;
  tenant_id: string;
  connector_id: string;
  key_lookup: string;
  machine_id: string;
  reason: string;
  at: ColumnType<Date, never, never>;
}

export interface SchemaSnapshotsTable {
  id: Generated<number>;
  tenant_id: string;
  connector_id: string;
  database_name: string;
  /** 1, 2, 3... per connector and database. */
  version: number;
  /** A SchemaSnapshot (@vansales/protocol); written as JSON text, read back parsed. */
  snapshot: ColumnType<unknown, string, never>;
  /** SHA-256 (hex) of the snapshot's canonical JSON without row estimates. */
  hash: string;
  created_at: ColumnType<Date, never, never>;
}

export interface AuditEventsTable {
  id: Generated<number>;
  tenant_id: string;
  connector_id: string;
  /** bigint: pg returns it as a string, PGlite as a number. */
  seq: ColumnType<string | number, number, never>;
  /** An AuditRecord (@vansales/protocol); written as JSON text, read back parsed. */
  record: ColumnType<unknown, string, never>;
  prev_hash: ColumnType<string, string, never>;
  hash: ColumnType<string, string, never>;
  created_at: ColumnType<Date, never, never>;
}

/** The gateway's signature over (connector chain, seq, hash), made with VSC_AUDIT_SIGNING_KEY. */
export interface AuditCheckpointsTable {
  id: Generated<number>;
  tenant_id: string;
  connector_id: string;
  seq: ColumnType<string | number, number, never>;
  hash: string;
  signature: string;
  /** Fingerprint of the signing key. */
  key_id: string;
  created_at: ColumnType<Date, never, never>;
}

export interface BufferUsageTable {
  tenant_id: string;
  object_id: string;
  chunk_index: number;
  /** bigint: pg returns it as a string, PGlite as a number. */
  bytes: ColumnType<string | number, number, number>;
  expires_at: ColumnType<Date, Date, Date>;
}

export interface WebhooksTable {
  hook_id: string;
  tenant_id: string;
  definition_id: string;
  created_at: ColumnType<Date, never, never>;
}

export interface WebhookSecretsTable {
  secret_id: string;
  hook_id: string;
  key_id: string;
  /** AES-256-GCM sealed secret (the gateway seals and opens it; the store never sees it in clear). */
  sealed: Buffer;
  created_at: ColumnType<Date, never, never>;
  /** Null while current; a retired secret stays valid until then. */
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface DefinitionRunsTable {
  tenant_id: string;
  definition_id: string;
  version: number;
  /** The Temporal workflow id (definitionRunWorkflowId). */
  workflow_id: string;
  run_key: string;
  trigger_kind: string;
  idempotency_key: string | null;
  request_hash: string | null;
  started_by: string;
  created_at: ColumnType<Date, never, never>;
  /** Last status read from Temporal (a cache: Temporal is the truth). */
  status: ColumnType<string, string | undefined, string>;
  status_at: ColumnType<Date, Date | undefined, Date>;
}

/** The connectors a run's document names (migration 0020): the runs list's connector filter. */
export interface DefinitionRunConnectorsTable {
  tenant_id: string;
  workflow_id: string;
  connector_id: string;
}

export interface ControlFlagsTable {
  tenant_id: string;
  scope: 'definition' | 'connector' | 'tenant';
  target_id: string;
  state: 'paused' | 'stopped';
  set_by: string;
  reason: string;
  set_at: ColumnType<Date, Date | undefined, Date>;
}

export interface DefinitionsTable {
  tenant_id: string;
  id: string;
  name: string;
  status: ColumnType<'active' | 'archived', 'active' | 'archived' | undefined, 'active' | 'archived'>;
  published_version: ColumnType<number | null, number | null | undefined, number | null>;
  published_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Immutable: a trigger refuses UPDATE (see migration 0007). */
export interface DefinitionVersionsTable {
  tenant_id: string;
  definition_id: string;
  version: number;
  hash: string;
  /** A DefinitionDocument (@vansales/definitions), parsed; written as JSON text, read back parsed. */
  document: ColumnType<unknown, string, never>;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

export interface SyncStateTable {
  tenant_id: string;
  definition_id: string;
  step_id: string;
  /** The row's key columns as JSON of their comparable values. */
  row_key: string;
  /** The hash of the row both sides held after the last successful sync. */
  row_hash: string;
}

export interface SourceCursorsTable {
  tenant_id: string;
  definition_id: string;
  step_id: string;
  source_key: string;
  /** JSON; written as JSON text, read back parsed. */
  value: ColumnType<unknown, string, string>;
  run_id: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ApisTable {
  tenant_id: string;
  id: string;
  name: string;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  /** 0016: 'site' | 'internet' | 'both', or null (registered before, or without one). */
  accessibility: string | null;
  site_connector_id: string | null;
  site_api: string | null;
  internet_base_url: string | null;
}

/** Content-addressed per tenant; the blob itself lives in the buffer's store under `artifacts/`. */
export interface ApiArtifactsTable {
  tenant_id: string;
  sha256: string;
  kind: 'spec' | 'manifest' | 'bundle';
  /** bigint: read back as a string by node-postgres. */
  size: ColumnType<string | number, number, never>;
  key_id: string;
  signature: string;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
}

/** Immutable: a trigger refuses UPDATE (see migration 0012). */
export interface ApiVersionsTable {
  tenant_id: string;
  api_id: string;
  version: number;
  spec_hash: string;
  manifest_hash: string;
  source_format: string;
  api_version: string;
  operation_count: number;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  /** Migration 0014: where the spec was fetched from (null: uploaded as text). */
  source_url: string | null;
  /** Migration 0014: the connector whose agent fetched a site URL (null: the cloud fetched it). */
  source_connector_id: string | null;
}

export interface ApiVersionArtifactsTable {
  tenant_id: string;
  api_id: string;
  version: number;
  role: string;
  sha256: string;
}

/** Envelope-encrypted named secrets of a tenant (0013); the store never sees them in clear. */
export interface CredentialsTable {
  tenant_id: string;
  name: string;
  kind: string;
  key_id: string;
  wrapped_key: Buffer;
  sealed: Buffer;
  version: ColumnType<number, number | undefined, number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  failure: string | null;
  failed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When the secret was last attached to a request (0015; updated at most once a minute). */
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** One audited API operation call (0015): never parameters or bodies (there is no column for them). */
export interface ApiCallsTable {
  id: Generated<string>;
  tenant_id: string;
  definition_id: string | null;
  run_id: string | null;
  step_id: string | null;
  api_id: string;
  version: number;
  operation_key: string;
  side: string;
  connector_id: string | null;
  status: number;
  request_bytes: ColumnType<string, number, number>;
  response_bytes: ColumnType<string, number, number>;
  duration_ms: number;
  at: ColumnType<Date, Date | undefined, Date>;
}

/** Local accounts (issue 12): the password only as its argon2id hash. */
export interface UsersTable {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: ColumnType<Date, never, never>;
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** Sign-in sessions: the SHA-256 of the token's secret, never the token. */
export interface UserSessionsTable {
  id: string;
  hash: Buffer;
  user_id: string;
  created_at: ColumnType<Date, never, never>;
  expires_at: Date;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  ip: string | null;
  user_agent: string | null;
}

export type MemberRole = 'owner' | 'admin' | 'author' | 'operator' | 'viewer';

export interface TenantMembersTable {
  tenant_id: string;
  user_id: string;
  role: MemberRole;
  created_at: ColumnType<Date, never, never>;
}

/** API tokens of a tenant or of a person in it: hashed, scoped by a role, expiring, revocable. */
export interface ApiTokensTable {
  id: string;
  hash: Buffer;
  tenant_id: string;
  user_id: string | null;
  name: string;
  role: MemberRole;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  expires_at: Date;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_used_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** Per-tenant quota overrides (migration 0018-tenant-quotas). */
export interface TenantQuotasTable {
  tenant_id: string;
  /** JSON: { quota name: limit }. */
  limits: string;
  updated_by: string;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** Invitations to a tenant (migration 0019): the SHA-256 of the token's secret, never the token. */
export interface TenantInvitationsTable {
  id: string;
  hash: Buffer;
  tenant_id: string;
  email: string;
  role: MemberRole;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  expires_at: Date;
  accepted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  accepted_by: ColumnType<string | null, string | null | undefined, string | null>;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/** Single sign-ons in progress (migration 0019), shared by every gateway node. */
export interface SsoStatesTable {
  state_hash: Buffer;
  provider: string;
  nonce: string;
  verifier: string;
  created_at: ColumnType<Date, never, never>;
  expires_at: Date;
}

/** Releases of the mini connector registered by the platform operator (migration 0022). */
export interface AgentReleasesTable {
  version: string;
  /** SHA256SUMS as `./vsc release agent` wrote it. */
  sums: string;
  /** Ed25519 signature of `sums` by the release key, base64. */
  signature: string;
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  /** What changed, in the operator's words (migration 0025); null when none were given. */
  notes: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One executable of a release; its bytes are chunks in the buffer's store (`agent-releases/`). */
export interface AgentReleaseFilesTable {
  version: string;
  platform: string;
  file_name: string;
  sha256: string;
  size: ColumnType<number, number, number>;
  chunks: number;
  uploaded_at: ColumnType<Date, Date | undefined, Date>;
}

/** The agent version a tenant approved (migration 0022). */
export interface TenantAgentVersionsTable {
  tenant_id: string;
  version: string;
  approved_by: string;
  approved_at: ColumnType<Date, Date | undefined, Date>;
}

export interface Database {
  tenants: TenantsTable;
  connectors: ConnectorsTable;
  agent_keys: AgentKeysTable;
  agent_connection_refusals: AgentConnectionRefusalsTable;
  connector_doctor_reports: ConnectorDoctorReportsTable;
  agent_challenges: AgentChallengesTable;
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
  schema_snapshots: SchemaSnapshotsTable;
  buffer_usage: BufferUsageTable;
  definition_runs: DefinitionRunsTable;
  definition_run_connectors: DefinitionRunConnectorsTable;
  control_flags: ControlFlagsTable;
  webhooks: WebhooksTable;
  webhook_secrets: WebhookSecretsTable;
  definitions: DefinitionsTable;
  definition_versions: DefinitionVersionsTable;
  sync_state: SyncStateTable;
  source_cursors: SourceCursorsTable;
  apis: ApisTable;
  api_artifacts: ApiArtifactsTable;
  api_versions: ApiVersionsTable;
  api_version_artifacts: ApiVersionArtifactsTable;
  credentials: CredentialsTable;
  api_calls: ApiCallsTable;
  users: UsersTable;
  user_sessions: UserSessionsTable;
  tenant_members: TenantMembersTable;
  api_tokens: ApiTokensTable;
  tenant_invitations: TenantInvitationsTable;
  sso_states: SsoStatesTable;
  tenant_quotas: TenantQuotasTable;
  agent_releases: AgentReleasesTable;
  agent_release_files: AgentReleaseFilesTable;
  tenant_agent_versions: TenantAgentVersionsTable;
}
