export {
  testServices,
  throwawayPostgresDatabase,
  sharedDataDir,
  type TestServices,
  type MariadbAccess,
} from './test-env';
export { SAKILA_TABLES, PAGILA_TABLES } from './sample-databases';
export { hostileManifests, DROP_PAYROLL_TYPE, type HostileCase } from './hostile-manifests';
export { minioClient, throwawayMinioBucket, type MinioBucketConfig, type ThrowawayMinioBucket } from './minio-bucket';
export {
  startOidcProvider,
  authorizeInBrowser,
  webClient,
  serviceClient,
  authorizationCodeScheme,
  type OidcClient,
  type RunningProvider,
} from './oidc-provider';
export { makeTestPki } from './test-pki';
export { seedRunsStatements, type SeedRuns } from './seed-runs';
