import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { bufferPurgeWorkflow } from '@vansales/workflows';

export const BUFFER_PURGE_SCHEDULE_ID = 'vsc-buffer-purge';

/**
 * Makes sure one Temporal Schedule purges expired buffer objects every `everyMinutes`: created
 * on first start, brought up to date on later ones (several gateways may run this at once;
 * Temporal keeps one schedule per id). Overlapping runs are skipped.
 */
export async function ensureBufferPurgeSchedule(
  client: Client,
  options: { workflowTaskQueue: string; cloudTaskQueue: string; everyMinutes: number; scheduleId?: string },
): Promise<'created' | 'updated' | 'recreated'> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: bufferPurgeWorkflow,
    taskQueue: options.workflowTaskQueue,
    args: [{ cloudTaskQueue: options.cloudTaskQueue }] as [{ cloudTaskQueue: string }],
    workflowExecutionTimeout: 60 * 60_000,
  };
  const spec = { intervals: [{ every: options.everyMinutes * 60_000 }] };
  try {
    await client.schedule.create({
      scheduleId: options.scheduleId ?? BUFFER_PURGE_SCHEDULE_ID,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(options.scheduleId ?? BUFFER_PURGE_SCHEDULE_ID);
  try {
    await handle.update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  } catch {
    // The stored schedule cannot be read with today's payload keys (an old key was retired):
    // it holds nothing worth keeping, so it is made again.
    await handle.delete();
    await client.schedule.create({
      scheduleId: options.scheduleId ?? BUFFER_PURGE_SCHEDULE_ID,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    });
    return 'recreated';
  }
}
