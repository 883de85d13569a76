import { type ActivityInterceptorsFactory, type NativeConnection, Worker } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { CloseCode, connectorTaskQueue, PROTOCOL_VERSION, type HelloFrame } from '@vansales/protocol';
import type { Logger } from '../logger';
import type { AgentConnection } from './agent-connection';
import { createProxyActivities, type AuditSink, type ResultTransform, type TaskPreparer } from './proxy-activities';

interface Session {
  connection: AgentConnection;
  worker: Worker;
  running: Promise<void>;
  hello: HelloFrame;
}

export interface AgentHubOptions {
  temporal: NativeConnection;
  namespace: string;
  heartbeatIntervalMs: number;
  helloTimeoutMs: number;
  /** Encrypts every payload these Workers hand to Temporal. */
  dataConverter: { payloadCodecs: PayloadCodec[]; failureConverterPath: string };
  /** Upper bound of concurrent polls per busy agent (1 = always exactly one). */
  maxPollersPerAgent: number;
  /** Most tasks one agent runs at once, whatever concurrency its hello asks for. */
  maxConcurrencyPerAgent?: number;
  log: Logger;
  onOnline?: (identity: { tenantId: string; connectorId: string }, hello: HelloFrame) => void | Promise<void>;
  /** The gateway's copy of every agent operation. */
  audit?: AuditSink;
  transformResult?: ResultTransform;
  prepareTask?: TaskPreparer;
  /** Around every task of every connector Worker (the activity-overhead benchmark times the hop with one). */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

/**
 * Presence and task routing for the agents connected to this gateway node. For each connected
 * agent it runs an activity-only Temporal Worker on `connector.<id>`; when the agent leaves, the
 * Worker stops, and tasks wait in Temporal until the agent is back.
 */
export class AgentHub {
  private readonly sessions = new Map<string, Session>();
  /** Workers shutting down after their agent left (close waits for them too). */
  private readonly stopping = new Set<Promise<unknown>>();
  private closing = false;

  constructor(private readonly opts: AgentHubOptions) {}

  isOnline(connectorId: string): boolean {
    return this.sessions.has(connectorId);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Runs one authenticated agent connection until it closes. */
  async serve(connection: AgentConnection): Promise<void> {
    const { connectorId, tenantId } = connection.identity;
    const log = this.opts.log.child({ connectorId, tenantId });
    if (this.closing) return connection.close(CloseCode.goingAway, 'gateway is shutting down');
    if (this.sessions.has(connectorId)) {
      log.warn('refused a second connection for a connector that is already connected');
      return connection.close(
        CloseCode.duplicateConnection,
        'this connector is already connected from another agent instance',
      );
    }

    let hello: HelloFrame;
    try {
      hello = await connection.waitForHello(this.opts.helloTimeoutMs);
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'agent did not complete the handshake');
      return connection.close(CloseCode.helloTimeout, 'expected a hello frame first');
    }
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      return connection.close(
        CloseCode.protocolVersion,
        `protocol version ${hello.protocolVersion} is not supported; this gateway speaks ${PROTOCOL_VERSION}`,
      );
    }
    // Check again: another connection may have completed its handshake meanwhile.
    if (this.sessions.has(connectorId)) {
      return connection.close(
        CloseCode.duplicateConnection,
        'this connector is already connected from another agent instance',
      );
    }

    const taskQueue = connectorTaskQueue(connectorId);
    const worker = await Worker.create({
      connection: this.opts.temporal,
      namespace: this.opts.namespace,
      taskQueue,
      dataConverter: this.opts.dataConverter,
      activities: createProxyActivities(
        connection,
        this.opts.audit,
        (err) => log.error({ err: String(err) }, 'could not write an audit record'),
        this.opts.transformResult,
        this.opts.prepareTask,
      ),
      // One long poll per idle agent is what lets one namespace serve thousands of agents. Poller
      // autoscaling (opt-in) lets a busy agent's Worker hold a few, but the SDK (1.24) checks each
      // autoscaling Worker every 100 ms, idle or not: that timer was most of a gateway's idle CPU.
      activityTaskPollerBehavior:
        Math.min(this.opts.maxPollersPerAgent, hello.concurrency) > 1
          ? {
              type: 'autoscaling',
              minimum: 1,
              initial: 1,
              maximum: Math.min(this.opts.maxPollersPerAgent, hello.concurrency),
            }
          : { type: 'simple-maximum', maximum: 1 },
      maxConcurrentActivityTaskExecutions: Math.min(hello.concurrency, this.opts.maxConcurrencyPerAgent ?? 16),
      ...(this.opts.activityInterceptors ? { interceptors: { activity: this.opts.activityInterceptors } } : {}),
      shutdownGraceTime: '2 seconds',
      // Heartbeats here are real agent progress, not a timer, so pass them on promptly: that is
      // also how a cancellation gets back to the agent quickly.
      defaultHeartbeatThrottleInterval: '1 second',
      maxHeartbeatThrottleInterval: '5 seconds',
    });
    const session: Session = { connection, worker, hello, running: worker.run() };
    this.sessions.set(connectorId, session);
    connection.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      connectorId,
      tenantId,
      taskQueue,
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
    });
    log.info({ taskQueue, agentVersion: hello.agentVersion, databases: hello.databases }, 'agent connected');
    void Promise.resolve(this.opts.onOnline?.({ tenantId, connectorId }, hello)).catch((err) =>
      log.warn({ err: String(err) }, 'onOnline hook failed'),
    );

    session.running.catch((err) => log.error({ err: String(err) }, 'connector worker stopped with an error'));
    const { code } = await connection.closedPromise;
    log.info({ code }, 'agent disconnected');
    await this.stopSession(connectorId, session);
  }

  /** Disconnects an agent (revocation); resolves once its Worker has stopped. */
  async disconnect(connectorId: string, code: number, reason: string): Promise<boolean> {
    const session = this.sessions.get(connectorId);
    if (!session) return false;
    session.connection.close(code, reason);
    await this.stopSession(connectorId, session);
    return true;
  }

  private async stopSession(connectorId: string, session: Session): Promise<void> {
    if (this.sessions.get(connectorId) === session) this.sessions.delete(connectorId);
    if (session.worker.getState() === 'RUNNING') session.worker.shutdown();
    const stopped = session.running.catch(() => undefined);
    this.stopping.add(stopped);
    await stopped;
    this.stopping.delete(stopped);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.sessions.entries()].map(([id, s]) =>
        this.disconnect(id, CloseCode.goingAway, 'gateway is shutting down').then(() => s.running),
      ),
    );
    // Workers of agents that left just before still shut down: the Temporal connection outlives them.
    await Promise.all([...this.stopping]);
  }
}
