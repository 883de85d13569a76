import { randomBytes } from 'node:crypto';
import { BufferError } from '@vansales/buffer';
import { ensureBufferPurgeSchedule } from '@vansales/gateway';
import { services, startPlatform, untilExpired, type Platform } from './support/harness';

describe('buffer purge: a Temporal Schedule runs the purge on a cloud worker (real services)', () => {
  let platform: Platform;
  const scheduleId = `vsc-buffer-purge-test-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.temporal.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await platform?.close();
  });

  it('is created once, kept current, and deletes expired objects only', async () => {
    const options = {
      scheduleId,
      workflowTaskQueue: platform.workflowTaskQueue,
      cloudTaskQueue: platform.cloudTaskQueue,
      everyMinutes: 60,
    };
    expect(await ensureBufferPurgeSchedule(platform.temporal, options)).toBe('created');
    expect(await ensureBufferPurgeSchedule(platform.temporal, { ...options, everyMinutes: 30 })).toBe('updated');
    const handle = platform.temporal.schedule.getHandle(scheduleId);
    // Another deployment's keys (a retired key): the schedule cannot be read, so it is made again.
    const { Client } = await import('@temporalio/client');
    const { newPayloadKeySpec, vansalesDataConverter } = await import('@vansales/temporal-config');
    const foreign = new Client({
      connection: platform.temporal.connection,
      namespace: services.temporalNamespace,
      dataConverter: vansalesDataConverter(newPayloadKeySpec('old')),
    });
    expect(await ensureBufferPurgeSchedule(foreign, { ...options, everyMinutes: 45 })).toBe('recreated');
    expect(await ensureBufferPurgeSchedule(platform.temporal, { ...options, everyMinutes: 30 })).toBe('recreated');
    const described = await handle.describe();
    expect(described.spec.intervals?.[0]?.every).toBe(30 * 60_000);
    expect(described.action.type).toBe('startWorkflow');

    const buffer = platform.gateway.buffer;
    const tenant = `pt${randomBytes(3).toString('hex')}`;
    const write = async (ttlSeconds: number) => {
      const { objectId } = await buffer.createObject(tenant, { ttlSeconds });
      await buffer.writeChunk(tenant, objectId, 0, Buffer.from('rows'), 1);
      await buffer.commit(tenant, objectId, { schema: {}, chunkCount: 1, rowCount: 1 });
      return objectId;
    };
    const shortLived = await write(1);
    const longLived = await write(3600);
    await untilExpired(buffer, tenant, shortLived);

    await handle.trigger();
    const workflowId = await (async () => {
      for (let i = 0; i < 100; i++) {
        const action = (await handle.describe()).info.recentActions[0];
        if (action) return action.action.workflow.workflowId;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the schedule did not start the purge');
    })();
    const result = (await platform.temporal.workflow.getHandle(workflowId).result()) as { objectsDeleted: number };
    expect(result.objectsDeleted).toBeGreaterThanOrEqual(1);
    const gone = await buffer.readManifest(tenant, shortLived).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(BufferError);
    expect((gone as BufferError).code).toBe('NOT_FOUND');
    expect((await buffer.readManifest(tenant, longLived)).rowCount).toBe(1);
  });
});
