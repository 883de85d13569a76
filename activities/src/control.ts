// The control activity implementations (they need the metadata store): only the gateway imports these.
export {
  createDefinitionControlActivities,
  loadDefinitionVersionFrom,
  MAX_CURSOR_BYTES,
  type DefinitionControlDeps,
} from './control/definition-control-activities';
export {
  createSyncStateActivities,
  type SyncStateActivities,
  type SyncStateDeps,
  type SyncPlanInput,
  type SyncPlanObjects,
  type SyncPlanOutput,
} from './control/sync-state-activities';
