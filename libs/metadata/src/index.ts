export type { Database } from './schema';
export {
  openMetadataDb,
  migrateToLatest,
  metadataTarget,
  IN_MEMORY_METADATA,
  METADATA_APPLICATION_NAME,
  type MetadataDb,
  type MetadataTarget,
} from './open-database';
export { runInTenantScope, runUnscoped, currentTenantScope } from './tenant-scope';
export { PGLITE_APP_ROLE } from './pglite-role';
export {
  createRepositories,
  REFUSALS_KEPT,
  type Repositories,
  type TenantRow,
  type ConnectorRow,
  type ConnectorStatusRow,
} from './repositories';
export { MetadataConfig } from './config';
export {
  createSchemaRegistry,
  snapshotHash,
  SchemaRegistryError,
  type SchemaRegistry,
  type SnapshotVersion,
  type StoredSnapshot,
} from './schema-registry';
export {
  createAuditRepository,
  type AuditRepository,
  type AuditEventInput,
  type AuditSearch,
  type StoredAuditEvent,
} from './audit-repository';
export { createBufferUsage, type BufferUsage, type BufferLimits, type BufferUsageCheck } from './buffer-usage';
export {
  createWebhookRepository,
  type WebhookRepository,
  type WebhookRow,
  type WebhookSecretRow,
} from './webhook-repository';
export {
  createDefinitionRunRepository,
  createControlFlagRepository,
  type DefinitionRunRepository,
  type DefinitionRunRow,
  type RunCursor,
  type TenantRunFilters,
  type ControlFlagRepository,
  type ControlFlagRow,
  type ControlFlagScope,
  type ControlFlagState,
} from './definition-runs';
export {
  createDefinitionRepository,
  createDefinitionStore,
  DefinitionRepositoryError,
  type DefinitionRepository,
  type DefinitionSummary,
  type DefinitionVersionSummary,
} from './definition-repository';
export { createSyncStateRepository } from './sync-state-repository';
export {
  createTenantQuotaRepository,
  type TenantQuotaRepository,
  type QuotaOverrides,
  type StoredQuotaOverrides,
} from './tenant-quotas';
export { createSourceCursorRepository } from './source-cursors';
export {
  createApiArtifactRepository,
  type ApiArtifactRepository,
  type ApiArtifactKind,
  type ApiRow,
  type ApiArtifactRow,
  type ApiVersionRow,
  type ApiVersionSource,
  type NewApiVersion,
} from './api-artifact-repository';
export {
  createCredentialRepository,
  CredentialLockTimeoutError,
  CREDENTIAL_LOCK_TIMEOUT_MS,
  type CredentialRepository,
  type CredentialRows,
  type SealedCredentialRow,
  type CredentialSummaryRow,
} from './credential-repository';
export {
  ApiCallRecord,
  ApiCallCursorError,
  createApiCallRepository,
  type ApiCallFilter,
  type ApiCallRepository,
  type StoredApiCall,
} from './api-call-repository';
export {
  createIdentityRepository,
  type IdentityRepository,
  type UserRow,
  type MemberRow,
  type MemberRole,
  type ApiTokenRow,
  type CredentialCheckRow,
  type InvitationRow,
  type SsoStateRow,
} from './identity-repository';
export {
  createAgentReleaseRepository,
  type AgentReleaseRepository,
  type AgentReleaseRow,
  type AgentReleaseFileRow,
  type TenantAgentVersion,
} from './agent-release-repository';
