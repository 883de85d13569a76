import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export const BUFFER_PURGE_SCHEDULE_ID = 'vsc-buffer-purge';

/**
 * Makes sure one Temporal Schedule purges expired buffer objects every `everyMinutes`: created
 * on first start, brought up to date on later ones (several gateways may run this at once;
 * Temporal keeps one schedule per id). Overlapping runs are skipped.
 */
export async function ensureBufferPurgeSchedule(client: Client, options: { workflowTaskQueue: string; cloudTaskQueue: string; everyMinutes: number; scheduleId?: string }): Promise<'created' | 'updated'> {
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'bufferPurgeWorkflow',
    taskQueue: options.workflowTaskQueue,
    args: [{ cloudTaskQueue: options.cloudTaskQueue }],
    workflowExecutionTimeout: 60 * 60_000,
  };
  const spec = { intervals: [{ every: options.everyMinutes * 60_000 }] };
  try {
    await client.schedule.create({ scheduleId: options.scheduleId ?? BUFFER_PURGE_SCHEDULE_ID, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(options.scheduleId ?? BUFFER_PURGE_SCHEDULE_ID).update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}
