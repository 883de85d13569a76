import { proxyActivities } from '@temporalio/workflow';
import type { CloudActivities } from '@vansales/activities';
import { purgeOptions } from './activity-options';

/** Deletes expired buffer objects; started by a Temporal Schedule (S3's lifecycle rule backs it up). */
export async function bufferPurgeWorkflow(
  input: { cloudTaskQueue?: string } = {},
): Promise<{ objectsDeleted: number; bytesFreed: number }> {
  return proxyActivities<CloudActivities>(purgeOptions(input.cloudTaskQueue ?? 'cloud')).purgeExpiredBuffer();
}
