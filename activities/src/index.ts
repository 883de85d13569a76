export { type AgentActivities, AGENT_ACTIVITY_OPERATIONS } from './agent-activities';
export type { CloudActivities } from './cloud-activities';
export type {
  CloudDataActivities,
  CloudExtractInput,
  CloudLoadInput,
  PurgeOutput,
} from './cloud/cloud-data-activities';
export { type PingOutput, type SchemaRecorded } from './agent-activities';
export type { DefinitionActivities } from './cloud/definition-activities';
