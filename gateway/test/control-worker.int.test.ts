import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testServices } from '@vansales/test-kit';
import { createGateway, createLogger, loadGatewayConfig } from '@vansales/gateway';
import { connectTemporalClient } from '@vansales/temporal-config';

// Every gateway serves the interpreter's control activities with a Worker of its own. A gateway
// closed before that Worker finished starting once failed to close ("Cannot close connection while
// Workers hold a reference to it"): a restart right after a start, as tests and operators do.
describe('the control worker of a gateway (real Temporal)', () => {
  const services = testServices();
  const work = mkdtempSync(join(tmpdir(), 'vsc-control-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const env = () => ({
    VSC_ADMIN_TOKEN: randomBytes(32).toString('base64url'),
    VSC_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    VSC_BUFFER_KEYS: `b1:${Buffer.alloc(32, 8).toString('base64')}`,
    VSC_BUFFER_TOKEN_SECRET: Buffer.alloc(32, 9).toString('base64'),
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.temporalNamespace,
    VSC_METADATA_DIR: join(work, `metadata-${randomBytes(3).toString('hex')}`),
    VSC_BUFFER_DIR: join(work, 'buffer'),
    VSC_CONTROL_TASK_QUEUE: `control-${randomBytes(4).toString('hex')}`,
    VSC_GATEWAY_CLUSTER: 'off',
  });

  it('closes cleanly at once after it started, and after its Worker polls', async () => {
    const early = await createGateway(loadGatewayConfig(env()), createLogger('silent', 'gateway'));
    await expect(early.close()).resolves.toBeUndefined();

    const config = env();
    const later = await createGateway(loadGatewayConfig(config), createLogger('silent', 'gateway'));
    const connection = await connectTemporalClient({ address: services.temporalAddress });
    try {
      // The Worker is up when Temporal lists its poller on the control queue.
      for (;;) {
        const res = await connection.workflowService.describeTaskQueue({
          namespace: services.temporalNamespace,
          taskQueue: { name: config.VSC_CONTROL_TASK_QUEUE },
          taskQueueType: 2, // activity
        });
        if ((res.pollers?.length ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await connection.close();
    }
    await expect(later.close()).resolves.toBeUndefined();
  }, 120_000);
});
