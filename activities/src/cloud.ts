// The cloud activity implementations, apart from the contracts (index.ts): only the cloud worker imports these.
export { type CloudDeps, createCloudActivities } from './cloud-activities';
export { loadCloudDatabases, cloudDatabasesFrom, type CloudDatabases } from './cloud/cloud-databases';
export {
  createTransformActivities,
  TransformFailureType,
  type TransformActivities,
} from './cloud/transform-activities';
