import { AgentErrorType } from '@vansales/protocol';
import { createAgentMetrics } from '../src/agent-metrics';
import type { BufferClient } from '../src/buffer/buffer-client';

const grant = { objectId: 'o', token: 't' } as unknown as Parameters<BufferClient['putChunk']>[0];

/** An in-memory buffer client: the agent's interface, with chunks kept in a map. */
function memoryBuffer(): BufferClient {
  const chunks = new Map<number, Buffer>();
  return {
    putChunk: async (_g, index, bytes) => void chunks.set(index, bytes),
    getChunk: async (_g, index) => chunks.get(index)!,
    publishSchema: async () => undefined,
    commit: async () => undefined,
    manifest: async () => ({}) as never,
    committedManifest: async () => undefined,
    follow: async function* () {
      for (const [index, body] of chunks) yield { frame: { t: 'chunk', index } as never, body };
    },
  };
}

describe("the agent's metrics", () => {
  it('counts tasks by bounded operation and outcome, refusals by kind, sessions, and buffer bytes both ways', async () => {
    const metrics = createAgentMetrics('1.2.3');
    metrics.observer.task('sql.query', 'ok', 0.01);
    metrics.observer.task('sql.query', AgentErrorType.sqlRefused, 0.001);
    metrics.observer.task('data.load', AgentErrorType.policyRefused, 0.2);
    metrics.observer.task('DROP TABLE secrets', 'a tenant secret', 1);
    metrics.observer.session(true);
    expect(metrics.connected()).toBe(true);
    metrics.observer.session(false);
    metrics.observer.session(true);
    const buffer = metrics.countBuffer(memoryBuffer());
    await buffer.putChunk(grant, 0, Buffer.alloc(1000), 10);
    await buffer.putChunk(grant, 1, Buffer.alloc(24), 1);
    expect((await buffer.getChunk(grant, 0)).length).toBe(1000);
    for await (const item of buffer.follow(grant, { createTimeoutSeconds: 1 })) expect(item.body).toBeDefined();

    const text = await metrics.registry.metrics();
    expect(text).toContain('vsc_agent_tasks_total{operation="sql.query",outcome="ok"} 1');
    expect(text).toContain('vsc_agent_tasks_total{operation="sql.query",outcome="SqlRefused"} 1');
    expect(text).toContain('vsc_agent_tasks_total{operation="other",outcome="other"} 1');
    expect(text).toContain('vsc_agent_policy_refusals_total{kind="sql"} 1');
    expect(text).toContain('vsc_agent_policy_refusals_total{kind="policy"} 1');
    expect(text).toContain('vsc_agent_sessions_total 2');
    expect(text).toContain('vsc_agent_gateway_connected 1');
    expect(text).toContain('vsc_agent_buffer_bytes_total{direction="in"} 1024');
    expect(text).toContain('vsc_agent_buffer_bytes_total{direction="out"} 2024');
    expect(text).not.toContain('DROP TABLE');
    expect(text).not.toContain('tenant secret');
  });
});
