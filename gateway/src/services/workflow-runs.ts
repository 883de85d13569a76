import fp from 'fastify-plugin';
import { WorkflowFailedError, type Client, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import { ApplicationFailure, type Workflow } from '@temporalio/common';
import { SearchAttribute } from '@vansales/temporal-config';
import { GatewayError, GatewayErrorCode } from '../errors';

/** Starting built-in workflows and reading their outcome, shared by the services that run them. */
export function createWorkflowRuns(deps: { temporal: Client; workflowTaskQueue: string; closing?: AbortSignal }) {
  const { temporal, workflowTaskQueue, closing } = deps;
  return {
    /** Every built-in workflow starts on the workflow queue, tagged with its tenant, connector and definition. */
    start<W extends Workflow>(
      workflow: W,
      workflowId: string,
      definitionId: string,
      input: Parameters<W>[0] & { tenantId: string; connectorId: string },
    ) {
      return temporal.workflow.start(workflow, {
        taskQueue: workflowTaskQueue,
        workflowId,
        args: [input],
        typedSearchAttributes: [
          { key: SearchAttribute.TenantId, value: input.tenantId },
          { key: SearchAttribute.ConnectorId, value: input.connectorId },
          { key: SearchAttribute.DefinitionId, value: definitionId },
        ],
        // WorkflowStartOptions is a conditional type TypeScript cannot resolve for a generic W; the input's
        // type is still checked at each call (Parameters<W>[0]).
      } as unknown as WorkflowStartOptions<W>);
    },

    /**
     * A workflow's result, or its failure as a 422 naming the root cause and its type. The wait
     * ends early when `signal` aborts (the caller went away) or the gateway closes; the workflow runs on.
     */
    async result<T>(handle: WorkflowHandle, signal?: AbortSignal): Promise<T> {
      const signals = [signal, closing].filter((s): s is AbortSignal => !!s);
      try {
        return (await (signals.length
          ? temporal.withAbortSignal(AbortSignal.any(signals), () => handle.result())
          : handle.result())) as T;
      } catch (err) {
        if (err instanceof WorkflowFailedError) {
          const cause = rootCause(err);
          throw new GatewayError(GatewayErrorCode.workflowFailed, cause.message, {
            workflowId: handle.workflowId,
            type: cause.type,
          });
        }
        throw err;
      }
    },

    /** A handle on a workflow of this type, if it is this tenant's; the same 404 for another tenant's and for none. */
    async owned(tenantId: string, workflowId: string, workflow: Workflow, what: string) {
      const handle = temporal.workflow.getHandle(workflowId);
      const description = await handle.describe().catch(() => undefined);
      const owner = description?.typedSearchAttributes.get(SearchAttribute.TenantId);
      if (!description || description.type !== workflow.name || owner !== tenantId)
        throw new GatewayError(GatewayErrorCode.notFound, `${what} ${workflowId} not found in tenant ${tenantId}`);
      return { handle, description };
    },
  };
}
export type WorkflowRuns = ReturnType<typeof createWorkflowRuns>;

declare module 'fastify' {
  interface FastifyInstance {
    workflowRuns: WorkflowRuns;
  }
}

export const workflowRunsPlugin = fp<{ temporal: Client; workflowTaskQueue: string }>(
  async (app, deps) => {
    // A closing gateway stops waiting for results before its Temporal connection goes.
    const closing = new AbortController();
    app.addHook('preClose', async () => closing.abort());
    app.decorate('workflowRuns', createWorkflowRuns({ ...deps, closing: closing.signal }));
  },
  { name: 'workflow-runs', fastify: '5.x' },
);

function rootCause(err: Error): { message: string; type?: string } {
  let current: Error | undefined = err;
  let last: { message: string; type?: string } = { message: err.message };
  while (current) {
    last = {
      message: current.message,
      type: current instanceof ApplicationFailure ? (current.type ?? undefined) : last.type,
    };
    current = (current as { cause?: Error }).cause;
  }
  return last;
}
