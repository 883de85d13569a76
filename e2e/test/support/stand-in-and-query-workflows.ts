/**
 * The interpreter's stand-in beside the real agent query workflow: a test with the stand-in on its
 * workflow queue can still run `POST …/queries` through a real agent (whose operations the gateway
 * audits in the connector's chain).
 */
export { definitionWorkflow } from './stand-in-definition-workflow';
export { agentQueryWorkflow } from '@vansales/workflows';
