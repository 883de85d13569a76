/**
 * The task queues a definition run's activities go to, as this gateway is configured: every run it
 * starts (REST, webhook, schedule) carries them, so a deployment with its own queue names works.
 */
export interface RunQueues {
  /** VSC_CLOUD_TASK_QUEUE: the cloud workers' activities. */
  cloudTaskQueue?: string;
  /** VSC_CONTROL_TASK_QUEUE: the gateways' control activities (definitions, cursors). */
  controlTaskQueue?: string;
}
