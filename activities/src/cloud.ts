// The cloud activity implementations, apart from the contracts (index.ts): only the cloud worker imports these.
export { type CloudDeps, createCloudActivities, DEFAULT_EGRESS } from './cloud-activities';
export {
  loadCloudCredentials,
  cloudCredentialsFrom,
  CloudCredentialsError,
  type CloudCredentials,
  firstCredentials,
} from './cloud/cloud-credentials';
export {
  createHttpActivities,
  type ApiCallRecord,
  type ApiOperationDeps,
  type HttpActivities,
  type HttpActivityDeps,
} from './cloud/http-activities';
export { addressProblem, type EgressSettings } from '@vansales/dataflow';
export { loadCloudDatabases, cloudDatabasesFrom, type CloudDatabases } from './cloud/cloud-databases';
export {
  createDefinitionActivities,
  MAX_SPLIT_PARTS,
  MAX_DEDUPE_KEYS,
  type DefinitionActivityDeps,
} from './cloud/definition-activities';
export {
  createTransformActivities,
  TransformFailureType,
  type TransformActivities,
} from './cloud/transform-activities';
