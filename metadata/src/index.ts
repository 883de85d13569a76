export type { Database } from './schema';
export { openMetadataDb, migrateToLatest, metadataTarget, type MetadataDb, type MetadataTarget } from './open-database';
export { createRepositories, type Repositories, type TenantRow, type ConnectorRow } from './repositories';
export { MetadataConfig } from './config';
