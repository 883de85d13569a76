export { agentQueryWorkflow, WorkflowErrorType, type AgentQueryInput, type AgentQueryOutput } from './agent-query-workflow';
