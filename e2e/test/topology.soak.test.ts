import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { vansalesDataConverter } from '@vansales/temporal-config';
import { startTopology, type Topology } from './support/topology';
import { SimulatedAgent } from './support/simulated-agent';
import { until } from './support/harness';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
const round = (n: number) => Math.round(n * 100) / 100;

const AGENTS = Number(process.env.TOPOLOGY_AGENTS ?? 1000);
/** Workflows started before the node loss (some in flight on it) and during the agents' reconnection. */
const WORKFLOWS_BEFORE = 300;
const WORKFLOWS_DURING = 300;

/**
 * The production topology on one machine (issue 13 §7): `./vsc topology` (the Temporal server on
 * PostgreSQL, three gateway nodes behind HAProxy, two cloud workers, Redis, MinIO), 1,000 simulated
 * agents through HAProxy, ping workflows routed to them, one gateway node SIGKILLed with tasks in
 * flight. Its agents come back on the other nodes, and every started workflow completes with the
 * answer of its own agent.
 */
describe('the production topology loses a gateway node', () => {
  let topology: Topology;
  let connection: Connection;
  let temporal: Client;
  const agents: SimulatedAgent[] = [];

  beforeAll(async () => {
    topology = await startTopology(300_000);
    connection = await Connection.connect({ address: topology.services.temporalAddress });
    temporal = new Client({
      connection,
      namespace: topology.services.temporalNamespace,
      dataConverter: vansalesDataConverter(topology.payloadKeys),
    });
  }, 330_000);

  afterAll(async () => {
    for (const a of agents) a.stop();
    await connection?.close();
    await topology?.stop();
  }, 60_000);

  const agentsOn = async (url: string) => {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    return res?.ok ? ((await res.json()) as { agentsConnected: number }).agentsConnected : undefined;
  };

  it('moves the agents of a killed node to the others and loses no task', async () => {
    const tenantId = `topo-${randomBytes(3).toString('hex')}`;
    expect((await topology.api('POST', '/v1/tenants', { id: tenantId, name: 'Topology' })).status).toBe(201);
    const connectors: { id: string; apiKey: string }[] = [];
    const t0 = Date.now();
    for (let i = 0; i < AGENTS; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, AGENTS - i) }, (_, k) =>
          topology.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
            name: `site-${i + k}`,
          }),
        ),
      );
      for (const res of batch) {
        expect(res.status).toBe(201);
        connectors.push(res.body);
      }
    }
    const createSeconds = (Date.now() - t0) / 1000;

    // Every agent dials the load balancer, never a node: HAProxy spreads them.
    const wsUrl = `${topology.loadBalancer.replace('http', 'ws')}/v1/agent/connect`;
    const t1 = Date.now();
    for (let i = 0; i < connectors.length; i += 50) {
      const batch = connectors.slice(i, i + 50).map(
        (c) =>
          new SimulatedAgent(c.id, c.apiKey, wsUrl, {
            answerDelayMs: 300,
            initialDelayMs: 200,
            maxDelayMs: 2000,
          }),
      );
      agents.push(...batch);
      await Promise.all(batch.map((a) => a.start()));
    }
    const perNode = await Promise.all(topology.nodes.map((n) => agentsOn(n.url)));
    const connectSeconds = (Date.now() - t1) / 1000;
    expect(perNode.reduce((a, b) => a! + b!, 0)).toBe(AGENTS);
    // Spread: every node carries a real share (leastconn gives about a third each).
    for (const n of perNode) expect(n!).toBeGreaterThan(AGENTS / 6);

    const started: { workflowId: string; connectorId: string }[] = [];
    const startSome = async (count: number) => {
      for (let i = 0; i < count; i += 20)
        await Promise.all(
          Array.from({ length: Math.min(20, count - i) }, async () => {
            const connectorId = connectors[Math.floor(Math.random() * connectors.length)]!.id;
            const workflowId = `topology-ping-${randomBytes(5).toString('hex')}`;
            await temporal.workflow.start('pingWorkflow', {
              taskQueue: 'workflows',
              workflowId,
              args: [{ placement: { kind: 'connector', connectorId }, count: 1, concurrency: 1 }],
              workflowExecutionTimeout: '6 minutes',
            });
            started.push({ workflowId, connectorId });
          }),
        );
    };

    await startSome(WORKFLOWS_BEFORE);
    // Tasks are in flight now (each agent answers 300 ms after it gets one): kill node 2 under them.
    const victim = topology.nodes[1]!;
    const victimAgents = perNode[1]!;
    const killedAt = Date.now();
    process.kill(victim.pid(), 'SIGKILL');
    await startSome(WORKFLOWS_DURING);

    // Its agents lost their sessions and came back through HAProxy on the two other nodes.
    const lost = () => agents.filter((a) => a.losses.some((t) => t >= killedAt));
    await until('the killed node`s agents to notice', async () => lost().length >= victimAgents, 60_000);
    await until(
      'every agent online again on the surviving nodes',
      async () => {
        const counts = await Promise.all([topology.nodes[0]!, topology.nodes[2]!].map((n) => agentsOn(n.url)));
        return agents.every((a) => a.online) && counts[0]! + counts[1]! === AGENTS;
      },
      120_000,
    );
    expect(await agentsOn(victim.url)).toBeUndefined();
    const reconnectMs = lost()
      .map((a) => {
        const loss = a.losses.find((t) => t >= killedAt)!;
        return a.welcomes.find((t) => t > loss)! - loss;
      })
      .sort((a, b) => a - b);
    expect(reconnectMs).toHaveLength(victimAgents);

    // No task lost: every started workflow completes, with the answer of the agent it was routed to.
    const results = await Promise.all(
      started.map(async (w) => {
        const out = (await temporal.workflow.getHandle(w.workflowId).result()) as { answered: number; from: string[] };
        return out.answered === 1 && out.from[0] === w.connectorId;
      }),
    );
    const completed = results.filter(Boolean).length;
    const figures = {
      agents: AGENTS,
      create_connectors_s: round(createSeconds),
      connect_s: round(connectSeconds),
      agents_per_node: perNode,
      workflows_started: started.length,
      workflows_completed: completed,
      killed_node_agents: victimAgents,
      reconnect_p50_ms: percentile(reconnectMs, 50),
      reconnect_p99_ms: percentile(reconnectMs, 99),
      reconnect_max_ms: reconnectMs[reconnectMs.length - 1],
      all_done_after_kill_s: round((Date.now() - killedAt) / 1000),
    };
    process.stdout.write(`topology figures ${JSON.stringify(figures)}\n`);
    expect(started).toHaveLength(WORKFLOWS_BEFORE + WORKFLOWS_DURING);
    expect(completed).toBe(started.length);
  }, 480_000);
});
