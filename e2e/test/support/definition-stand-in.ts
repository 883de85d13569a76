import { workflowInfo } from '@temporalio/workflow';
import type { DefinitionRunInput } from '@vansales/definitions';

/**
 * Stands in for the interpreter (i10-interp's definitionWorkflow) in the webhook tests: registered
 * under the interpreter's name, it returns what its run was started with, so a test reads the run's
 * input (tenant, definition, pinned version, the body's buffer reference) back from Temporal.
 */
export async function definitionWorkflow(input: DefinitionRunInput) {
  return {
    workflowId: workflowInfo().workflowId,
    tenantId: input.tenantId,
    definitionId: input.definitionId,
    version: input.version,
    trigger: input.trigger,
    input: input.input,
  };
}
