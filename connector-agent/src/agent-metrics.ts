import { AgentCapability, AgentErrorType } from '@vansales/protocol';
import {
  boundedLabel,
  bufferBytesCounter,
  Counter,
  createMetricsRegistry,
  Gauge,
  taskMetrics,
  startStatusServer,
  type Registry,
  type StatusServer,
} from '@vansales/metrics';
import { access, constants } from 'node:fs/promises';
import type { BufferClient } from './buffer/buffer-client';

/** What the agent tells its metrics; every method is cheap and never throws. */
export interface AgentObserver {
  /** The gateway welcomed a session (true) or the socket closed (false). */
  session(open: boolean): void;
  /** A task ended: `outcome` is `ok` or the failure's AgentErrorType. */
  task(operation: string, outcome: string, seconds: number): void;
}

const OPERATIONS = new Set<string>(AgentCapability.options);
const OUTCOMES = new Set<string>(['ok', ...Object.values(AgentErrorType)]);
/** Refusals by the site's own rules: its policy file, or the read-only SQL guard. */
const REFUSALS: Record<string, string> = {
  [AgentErrorType.policyRefused]: 'policy',
  [AgentErrorType.sqlRefused]: 'sql',
};

export interface AgentMetrics {
  registry: Registry;
  observer: AgentObserver;
  /** Whether a gateway session is open now (readiness asks). */
  connected(): boolean;
  /** The buffer client with its chunk bytes counted. */
  countBuffer(buffer: BufferClient): BufferClient;
}

/**
 * The agent's metrics (README "Metrics"). Labels are the operation (one of the protocol's operations, else
 * `other`) and the outcome (an AgentErrorType): no tenant, connector, database, table or statement.
 */
export function createAgentMetrics(version: string): AgentMetrics {
  const registry = createMetricsRegistry('agent', version);
  const tasks = taskMetrics(registry, 'agent', 'Tasks this agent ran');
  const sessions = new Counter({
    name: 'vsc_agent_sessions_total',
    help: 'Gateway sessions opened (welcomes received); more than one means the link dropped and came back.',
    registers: [registry],
  });
  const connected = new Gauge({
    name: 'vsc_agent_gateway_connected',
    help: '1 while a gateway session is open.',
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'vsc_agent_policy_refusals_total',
    help: "Tasks refused by the site's rules, by kind (policy: the policy file; sql: the read-only SQL guard).",
    labelNames: ['kind'],
    registers: [registry],
  });
  const bytes = bufferBytesCounter(registry, 'agent');
  let open = false;
  const observer: AgentObserver = {
    session(isOpen) {
      open = isOpen;
      connected.set(isOpen ? 1 : 0);
      if (isOpen) sessions.inc();
    },
    task(operation, outcome, seconds) {
      tasks.observe(
        { operation: boundedLabel(operation, OPERATIONS), outcome: boundedLabel(outcome, OUTCOMES) },
        seconds,
      );
      const refusal = REFUSALS[outcome];
      if (refusal) refusals.inc({ kind: refusal });
    },
  };
  return {
    registry,
    observer,
    connected: () => open,
    countBuffer: (buffer) => ({
      ...buffer,
      putChunk: async (grant, index, chunk, rows, signal) => {
        await buffer.putChunk(grant, index, chunk, rows, signal);
        bytes.inc({ direction: 'in' }, chunk.length);
      },
      getChunk: async (grant, index, signal) => {
        const chunk = await buffer.getChunk(grant, index, signal);
        bytes.inc({ direction: 'out' }, chunk.length);
        return chunk;
      },
      follow: (grant, options) =>
        countFollowed(buffer.follow(grant, options), (n) => bytes.inc({ direction: 'out' }, n)),
    }),
  };
}

async function* countFollowed<T extends { body?: Buffer }>(frames: AsyncIterable<T>, count: (n: number) => void) {
  for await (const item of frames) {
    if (item.body) count(item.body.length);
    yield item;
  }
}

/**
 * The agent's status server: `/metrics`, `/livez`, and `/readyz` = a gateway session is open and the
 * audit log can be written (the agent refuses work it cannot record).
 */
export function startAgentStatusServer(
  settings: { host: string; port: number },
  metrics: AgentMetrics,
  auditPath: string,
): Promise<StatusServer> {
  return startStatusServer({
    ...settings,
    registry: metrics.registry,
    readiness: async () => ({
      gateway: metrics.connected()
        ? { ok: true, message: 'a gateway session is open' }
        : { ok: false, message: 'no gateway session (connecting or reconnecting)' },
      auditLog: await access(auditPath, constants.W_OK).then(
        () => ({ ok: true, message: 'the audit log is writable' }),
        (err: NodeJS.ErrnoException) => ({
          ok: false,
          message: `the audit log cannot be written: ${err.code ?? err.message}`,
        }),
      ),
    }),
  });
}
