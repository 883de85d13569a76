import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { connectTemporalClient, newPayloadKeySpec } from '@vansales/temporal-config';
import { testServices } from '@vansales/test-kit';

const services = testServices();
const main = join(__dirname, '..', 'dist', 'main.js');
const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;

describe('cloud worker roles (the built process)', () => {
  let connection: Connection;
  const dir = mkdtempSync(join(tmpdir(), 'vsc-roles-'));
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    connection = await connectTemporalClient({ address: services.temporalAddress });
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await connection?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pollers = async (taskQueue: string, taskQueueType: number) =>
    (
      await connection.workflowService.describeTaskQueue({
        namespace: services.temporalNamespace,
        taskQueue: { name: taskQueue },
        taskQueueType,
      })
    ).pollers?.length ?? 0;

  /** Starts the worker in a role and waits until Temporal sees its first poller; returns what polls where. */
  async function startInRole(role: 'workflows' | 'activities') {
    const queues = {
      workflows: `wf-${randomBytes(4).toString('hex')}`,
      cloud: `cloud-${randomBytes(4).toString('hex')}`,
    };
    const child = spawn(process.execPath, [main], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: services.temporalAddress,
        TEMPORAL_NAMESPACE: services.temporalNamespace,
        VSC_WORKFLOW_TASK_QUEUE: queues.workflows,
        VSC_CLOUD_TASK_QUEUE: queues.cloud,
        VSC_CLOUD_WORKER_ROLE: role,
        VSC_PAYLOAD_KEYS: newPayloadKeySpec('roles'),
        VSC_BUFFER_STORE: 'local',
        VSC_BUFFER_DIR: join(dir, role),
        VSC_BUFFER_KEYS: `b1:${randomBytes(32).toString('base64')}`,
        VSC_BUFFER_TOKEN_SECRET: randomBytes(32).toString('base64'),
        ...(process.env.VSC_TEST_WORKFLOW_BUNDLE ? { VSC_WORKFLOW_BUNDLE: process.env.VSC_TEST_WORKFLOW_BUNDLE } : {}),
      },
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const seen = {
        workflowPollers: await pollers(queues.workflows, TASK_QUEUE_TYPE_WORKFLOW),
        activityPollers: await pollers(queues.cloud, TASK_QUEUE_TYPE_ACTIVITY),
      };
      if (seen.workflowPollers + seen.activityPollers > 0 && /polling .* for /.test(out)) return { seen, out };
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the ${role} worker did not start polling:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('an activities-only worker polls the cloud queue and no workflow queue (it never loads the workflow bundle)', async () => {
    const { seen, out } = await startInRole('activities');
    expect(seen).toEqual({ workflowPollers: 0, activityPollers: expect.any(Number) });
    expect(seen.activityPollers).toBeGreaterThan(0);
    expect(out).toContain('for cloud activities');
  });

  it('a workflows-only worker polls the workflow queue and no cloud activity queue', async () => {
    const { seen, out } = await startInRole('workflows');
    expect(seen).toEqual({ workflowPollers: expect.any(Number), activityPollers: 0 });
    expect(seen.workflowPollers).toBeGreaterThan(0);
    expect(out).toContain('for workflows');
  });
});
