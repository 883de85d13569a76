import { NativeConnection, Worker } from '@temporalio/worker';
import { temporalConnectionOptions, vansalesDataConverter } from '@vansales/temporal-config';
import { services, type Platform } from './harness';

/**
 * A Worker polling the platform's workflow queue with the interpreter's STAND-IN
 * (stand-in-definition-workflow.ts) for tests of the runs routes and pages; start the platform with
 * `workflowWorker: false` so this worker gets every workflow task there.
 */
export async function startStandInWorker(
  platform: Pick<Platform, 'workflowTaskQueue' | 'payloadKeys'>,
  options: { withAgentQueries?: boolean } = {},
): Promise<{ close(): Promise<void> }> {
  const connection = await NativeConnection.connect(
    temporalConnectionOptions({ TEMPORAL_ADDRESS: services.temporalAddress } as never),
  );
  const worker = await Worker.create({
    connection,
    namespace: services.temporalNamespace,
    taskQueue: platform.workflowTaskQueue,
    workflowsPath: require.resolve(
      options.withAgentQueries ? './stand-in-and-query-workflows' : './stand-in-definition-workflow',
    ),
    dataConverter: vansalesDataConverter(platform.payloadKeys),
  });
  const running = worker.run();
  return {
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
