import { workflowInfo } from '@temporalio/workflow';
import type { DefinitionRunInput } from '@vansales/definitions';

/**
 * Stands in for the interpreter (i10-interp) in bench/webhooks.ts: it ends at once, so the
 * benchmark measures starting runs, and leaves no open workflow behind on the test server.
 */
export async function definitionWorkflow(input: DefinitionRunInput): Promise<string> {
  return `${workflowInfo().workflowId} ${input.trigger.id ?? ''}`;
}
