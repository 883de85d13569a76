import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { definitionRunWorkflowId, type DefinitionDocument } from '@vansales/definitions';
import { definitionWorkflow, type DefinitionWorkflowInput } from '@vansales/workflows';
import type { Platform } from './harness';

/**
 * Starts a run of `document` straight on Temporal, as the REST API does (version 1, a manual trigger,
 * the platform's queues): for tests that drive the interpreter without saving a definition first.
 */
export function startDefinitionDirect(
  platform: Platform,
  tenantId: string,
  definitionId: string,
  document: DefinitionDocument,
  more: Partial<DefinitionWorkflowInput> = {},
) {
  const tenant = more.tenantId ?? tenantId;
  return platform.temporal.workflow.start(definitionWorkflow, {
    taskQueue: platform.workflowTaskQueue,
    workflowId: definitionRunWorkflowId(tenant, definitionId, randomBytes(4).toString('hex')),
    args: [
      {
        tenantId: tenant,
        definitionId,
        version: 1,
        hash: 'h',
        document,
        trigger: { kind: 'manual' },
        cloudTaskQueue: platform.cloudTaskQueue,
        ...more,
      },
    ],
  });
}

/** The activities a run scheduled, in order (what ran where, straight from its history). */
export async function scheduledActivities(platform: Platform, handle: WorkflowHandle, runId?: string) {
  const history = await platform.temporal.workflow.getHandle(handle.workflowId, runId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
    .filter((n): n is string => !!n);
}
