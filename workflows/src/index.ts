export { agentQueryWorkflow, WorkflowErrorType, type AgentQueryInput, type AgentQueryOutput } from './agent-query-workflow';
export { pingWorkflow, type PingInput, type PingPlacement } from './ping-workflow';
export { schemaDiscoveryWorkflow, type SchemaDiscoveryInput } from './schema-discovery-workflow';
