export {
  agentQueryWorkflow,
  WorkflowErrorType,
  type AgentQueryInput,
  type AgentQueryOutput,
} from './agent-query-workflow';
export { pingWorkflow, type PingInput, type PingPlacement } from './ping-workflow';
export { schemaDiscoveryWorkflow, type SchemaDiscoveryInput } from './schema-discovery-workflow';
export { sitePolicyWorkflow, type SitePolicyInput } from './site-policy-workflow';
export { apiSpecFetchWorkflow, type ApiSpecFetchInput } from './api-spec-fetch-workflow';
export {
  dataSyncWorkflow,
  syncStateQuery,
  runSyncNowSignal,
  type DataSyncInput,
  type SyncEndpoint,
  type SyncTable,
  type SyncState,
  type TableState,
} from './data-sync-workflow';
export { bufferPurgeWorkflow } from './buffer-purge-workflow';
export { dataTransferWorkflow, type DataTransferWorkflowInput } from './data-transfer-workflow';
export {
  extractStepWorkflow,
  loadStepWorkflow,
  type ExtractStepInput,
  type LoadStepInput,
} from './buffer-step-workflows';
export {
  definitionWorkflow,
  runStatusQuery,
  approvalSignal,
  controlSignal,
  type DefinitionWorkflowInput,
  type DefinitionRunResult,
} from './definition-workflow';
export { type SyncRunSummary } from './definition/sync-run';
export { exampleSiteToCloudWorkflow, type ExampleSiteToCloudInput } from './example-site-to-cloud-workflow';
export { site, cloud, type SiteOptions, type LoadTarget } from './helpers';
export {
  httpReadStepWorkflow,
  httpWriteStepWorkflow,
  type HttpReadStepInput,
  type HttpWriteStepInput,
} from './http-step-workflows';
export { siteEventWatcherWorkflow, watcherStatusQuery, watcherPublishSignal } from './site-event-watcher-workflow';
