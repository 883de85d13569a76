import { type ActivityInterceptorsFactory, type NativeConnection, Worker } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import {
  CloseCode,
  connectorTaskQueue,
  PROTOCOL_VERSION,
  type AgentUpdateOffer,
  type DoctorReport,
  type HelloFrame,
} from '@vansales/protocol';
import type { Logger } from '../logger';
import type { AgentConnection, AgentIdentity } from './agent-connection';
import { ClusterUnavailableError, type SessionCluster, type SessionLease } from './session-cluster';
import {
  createProxyActivities,
  type ApiCallRecorder,
  type AuditSink,
  type ResultTransform,
  type TaskPreparer,
} from './proxy-activities';

/** The tenant's approved version for an agent that said its version and platform, if it should move. */
export type OfferUpdate = (
  tenantId: string,
  hello: Pick<HelloFrame, 'agentVersion' | 'platform'>,
) => Promise<AgentUpdateOffer | undefined>;

/**
 * One connector's slot on this node, reserved synchronously after hello (before any await), so two
 * hellos on one node cannot both get past the check; the cluster lease then covers the other nodes.
 */
interface Session {
  connection: AgentConnection;
  hello: HelloFrame;
  /** Set by a revocation, a lost lease or a missed heartbeat while the session is being set up or runs. */
  cut?: { code: number; reason: string };
  lease?: SessionLease;
  worker?: Worker;
  running?: Promise<void>;
  /** The agent got its welcome: the session serves tasks. */
  welcomed?: boolean;
}

/** Read through a call: a cut can land during any await, which TypeScript's narrowing does not see. */
const cutOf = (session: Session) => session.cut;

const DUPLICATE = 'this connector is already connected from another agent instance';

export interface AgentHubOptions {
  temporal: NativeConnection;
  namespace: string;
  heartbeatIntervalMs: number;
  /** A session silent for this many heartbeat intervals is dropped as a zombie. */
  missedHeartbeats: number;
  helloTimeoutMs: number;
  /** Leases and revocations shared by every gateway node. */
  cluster: SessionCluster;
  /** Checks the agent's key again after hello (it may have been revoked during the handshake). */
  keyStillValid: (identity: AgentIdentity) => Promise<boolean>;
  /** Encrypts every payload these Workers hand to Temporal. */
  dataConverter: { payloadCodecs: PayloadCodec[]; failureConverterPath: string };
  /** Upper bound of concurrent polls per busy agent (1 = always exactly one). */
  maxPollersPerAgent: number;
  /** Most tasks one agent runs at once, whatever concurrency its hello asks for. */
  maxConcurrencyPerAgent?: number;
  log: Logger;
  onOnline?: (identity: { tenantId: string; connectorId: string }, hello: HelloFrame) => void | Promise<void>;
  /**
   * The update the agent is offered in its welcome (issue 13 §5): its tenant's approved version. A
   * failure here is logged and the welcome goes without an offer: an update never blocks a session.
   */
  updateOffer?: OfferUpdate;
  /** A welcomed agent's doctor report (validated and bounded by the protocol, rate-limited by the connection). */
  onDoctor?: (identity: AgentIdentity, report: DoctorReport) => void | Promise<void>;
  /** A welcomed agent's socket closed (its "last seen"); not called for sessions that never got a welcome. */
  onOffline?: (identity: { tenantId: string; connectorId: string }) => void | Promise<void>;
  /** The gateway's copy of every agent operation. */
  audit?: AuditSink;
  transformResult?: ResultTransform;
  prepareTask?: TaskPreparer;
  /** The call audit of site steps' API operations (the reports beside agents' answers). */
  recordApiCalls?: ApiCallRecorder;
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
  /** Authenticated sockets that have not said hello yet, per connector: a revocation cuts them too. */
  private readonly handshakes = new Map<string, Set<AgentConnection>>();
  /** Workers shutting down after their agent left (close waits for them too). */
  private readonly stopping = new Set<Promise<unknown>>();
  private readonly heartbeatTimer: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly opts: AgentHubOptions) {
    opts.cluster.onRevocation(({ connectorId, code, reason, keyLookup }) =>
      this.cutLocal(connectorId, code, reason, keyLookup),
    );
    // Another node served an approval: this node offers it to the tenant's agents it holds.
    opts.cluster.onUpdateAnnounced((tenantId) => {
      if (opts.updateOffer) void this.offerLocal(tenantId, opts.updateOffer);
    });
    this.heartbeatTimer = setInterval(() => this.dropZombies(), opts.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  isOnline(connectorId: string): boolean {
    return this.sessions.get(connectorId)?.welcomed === true;
  }

  /** Which of these connectors have a live session on any node (this node's view when the cluster cannot be asked). */
  async onlineAnywhere(connectorIds: string[]): Promise<Set<string>> {
    const cluster = await this.opts.cluster.online(connectorIds);
    return cluster ?? new Set(connectorIds.filter((id) => this.isOnline(id)));
  }

  /**
   * Whether a buffer grant of this session may still be used: the session lives on this node, or holds
   * the connector's lease on another one. Throws ClusterUnavailableError when that cannot be known.
   */
  async sessionAlive(connectorId: string, sessionId: string): Promise<boolean> {
    const local = this.sessions.get(connectorId);
    if (local?.connection.sessionId === sessionId) return !local.cut && local.connection.isOpen;
    return (await this.opts.cluster.holder(connectorId)) === sessionId;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Runs one authenticated agent connection until it closes. */
  async serve(connection: AgentConnection): Promise<void> {
    const { connectorId, tenantId } = connection.identity;
    const log = this.opts.log.child({ connectorId, tenantId, sessionId: connection.sessionId });
    if (this.closing) return connection.close(CloseCode.goingAway, 'gateway is shutting down');
    if (this.sessions.has(connectorId)) {
      log.warn('refused a second connection for a connector that is already connected');
      return connection.close(CloseCode.duplicateConnection, DUPLICATE);
    }

    let hello: HelloFrame;
    const pending = this.handshakes.get(connectorId) ?? new Set();
    this.handshakes.set(connectorId, pending);
    pending.add(connection);
    try {
      hello = await connection.waitForHello(this.opts.helloTimeoutMs);
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'agent did not complete the handshake');
      return connection.close(CloseCode.helloTimeout, 'expected a hello frame first');
    } finally {
      pending.delete(connection);
      if (pending.size === 0 && this.handshakes.get(connectorId) === pending) this.handshakes.delete(connectorId);
    }
    if (!connection.isOpen) return;
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      return connection.close(
        CloseCode.protocolVersion,
        `protocol version ${hello.protocolVersion} is not supported; this gateway speaks ${PROTOCOL_VERSION}`,
      );
    }
    // The slot is taken before the first await below: a second hello on this node sees it.
    if (this.sessions.has(connectorId) || this.closing) {
      log.warn('refused a second connection for a connector that is already connected');
      return connection.close(CloseCode.duplicateConnection, DUPLICATE);
    }
    const session: Session = { connection, hello };
    this.sessions.set(connectorId, session);
    try {
      await this.start(session, log);
    } catch (err) {
      await this.stopSession(connectorId, session);
      throw err;
    }
    if (!session.welcomed) return this.stopSession(connectorId, session);

    const { code } = await connection.closedPromise;
    log.info({ code }, 'agent disconnected');
    await this.stopSession(connectorId, session);
    await Promise.resolve(this.opts.onOffline?.({ tenantId, connectorId })).catch((err) =>
      log.warn({ err: String(err) }, 'onOffline hook failed'),
    );
  }

  /** Lease, key check, Worker, welcome; leaves `welcomed` unset (and the socket closed) when the session may not start. */
  private async start(session: Session, log: Logger): Promise<void> {
    const { connection, hello } = session;
    const { connectorId, tenantId } = connection.identity;
    const refuse = (code: number, reason: string) => {
      connection.close(code, reason);
    };
    try {
      session.lease = await this.opts.cluster.acquire(connectorId, connection.sessionId);
    } catch (err) {
      if (!(err instanceof ClusterUnavailableError)) throw err;
      log.warn({ err: err.message }, 'refused an agent session: the cluster store is unreachable');
      return refuse(
        CloseCode.clusterUnavailable,
        'the gateway cannot reach Redis, which keeps one session per connector; retry later',
      );
    }
    if (!session.lease) {
      log.warn('refused a session: another gateway node holds this connector');
      return refuse(CloseCode.duplicateConnection, DUPLICATE);
    }
    session.lease.onLost = (reason) => {
      log.warn({ reason }, 'agent session cut: its cluster lease was lost');
      this.cutLocal(connectorId, CloseCode.sessionLost, 'this session lost its cluster lease; reconnect');
    };
    if (session.cut) return refuse(session.cut.code, session.cut.reason);
    if (!(await this.opts.keyStillValid(connection.identity))) {
      log.warn('refused a session: its key was revoked during the handshake');
      return refuse(CloseCode.keyRevoked, 'the API key of this connector was revoked');
    }
    // A cut session's socket is already closed with the cut's code; this close is then a no-op.
    if (cutOf(session) || !connection.isOpen) return refuse(CloseCode.normal, '');

    const taskQueue = connectorTaskQueue(connectorId);
    // Looked up while the Worker is made: the welcome carries it without waiting longer.
    const offered = this.offerOf(tenantId, hello, log);
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
        this.opts.recordApiCalls,
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
    session.worker = worker;
    session.running = worker.run();
    session.running.catch((err) => log.error({ err: String(err) }, 'connector worker stopped with an error'));
    // Cut while the Worker was being created: the caller stops it, and the agent gets no welcome.
    // A cut session's socket is already closed with the cut's code; this close is then a no-op.
    if (cutOf(session) || !connection.isOpen) return refuse(CloseCode.normal, '');
    const update = await offered;
    if (cutOf(session) || !connection.isOpen) return refuse(CloseCode.normal, '');
    session.welcomed = true;
    connection.onDoctor = (report) =>
      void Promise.resolve(this.opts.onDoctor?.(connection.identity, report)).catch((err) =>
        log.warn({ err: String(err) }, 'could not store the agent doctor report'),
      );
    connection.send({
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      connectorId,
      tenantId,
      taskQueue,
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      ...(update ? { update } : {}),
      gatewayTime: new Date().toISOString(),
    });
    log.info({ taskQueue, agentVersion: hello.agentVersion, databases: hello.databases }, 'agent connected');
    void Promise.resolve(this.opts.onOnline?.({ tenantId, connectorId }, hello)).catch((err) =>
      log.warn({ err: String(err) }, 'onOnline hook failed'),
    );
  }

  private async offerOf(tenantId: string, hello: HelloFrame, log: Logger, offer = this.opts.updateOffer) {
    if (!offer || !hello.platform) return undefined;
    try {
      return await offer(tenantId, hello);
    } catch (err) {
      log.warn({ err: String(err) }, 'could not look up the agent version to offer');
      return undefined;
    }
  }

  /**
   * Offers the approved version to the tenant's agents (after an approval): those welcomed on this
   * node now, and those on the other nodes of a cluster through it (each node offers to its own).
   */
  async offerUpdates(tenantId: string, offer: OfferUpdate): Promise<void> {
    await this.offerLocal(tenantId, offer);
    await this.opts.cluster.announceUpdate(tenantId);
  }

  /** Offers the approved version to the tenant's agents welcomed on this node. */
  private async offerLocal(tenantId: string, offer: OfferUpdate): Promise<void> {
    for (const session of this.sessions.values()) {
      const { connection, hello } = session;
      if (!session.welcomed || connection.identity.tenantId !== tenantId) continue;
      const update = await this.offerOf(tenantId, hello, this.opts.log, offer);
      if (update && connection.isOpen) connection.send({ type: 'update', offer: update });
    }
  }

  /**
   * Revokes a connector's sessions on every node: this node's at once, the others through the
   * cluster. Resolves once this node's Worker has stopped; true when this node held a session.
   */
  async revoke(connectorId: string, code: number, reason: string): Promise<boolean> {
    const session = this.sessions.get(connectorId);
    await this.opts.cluster.revoke(connectorId, code, reason);
    if (!session) return false;
    await this.stopSession(connectorId, session);
    return true;
  }

  /**
   * Revokes one key: the connector's session and handshakes that use it are cut on every node (a
   * session on another key stays). Resolves once this node's Worker stopped; true when this node held it.
   */
  async revokeKey(connectorId: string, keyLookup: string, code: number, reason: string): Promise<boolean> {
    const session = this.sessions.get(connectorId);
    await this.opts.cluster.revoke(connectorId, code, reason, keyLookup);
    if (!session || session.connection.identity.keyLookup !== keyLookup) return false;
    await this.stopSession(connectorId, session);
    return true;
  }

  /** Disconnects an agent on this node; resolves once its Worker has stopped. */
  async disconnect(connectorId: string, code: number, reason: string): Promise<boolean> {
    const session = this.sessions.get(connectorId);
    this.cutLocal(connectorId, code, reason);
    if (!session) return false;
    await this.stopSession(connectorId, session);
    return true;
  }

  /**
   * Cuts this node's session of the connector, whatever its stage, and its pending handshakes; only
   * those of one key when `keyLookup` is given.
   */
  private cutLocal(connectorId: string, code: number, reason: string, keyLookup?: string): void {
    const cuts = (c: AgentConnection) => keyLookup === undefined || c.identity.keyLookup === keyLookup;
    for (const c of this.handshakes.get(connectorId) ?? []) if (cuts(c)) c.close(code, reason);
    const session = this.sessions.get(connectorId);
    if (!session || !cuts(session.connection)) return;
    session.cut ??= { code, reason };
    session.connection.close(code, reason);
    // A welcomed session stops its Worker now, not when the socket's close handshake ends (a zombie's never does).
    if (session.welcomed) void this.stopSession(connectorId, session);
  }

  private dropZombies(): void {
    const limit = this.opts.heartbeatIntervalMs * this.opts.missedHeartbeats;
    const now = Date.now();
    for (const [connectorId, session] of this.sessions) {
      if (!session.welcomed || now - session.connection.lastSeenAt <= limit) continue;
      this.opts.log.warn(
        { connectorId, silentMs: now - session.connection.lastSeenAt },
        'dropped an agent session that missed its heartbeats',
      );
      this.cutLocal(
        connectorId,
        CloseCode.heartbeatMissed,
        `no heartbeat for ${this.opts.missedHeartbeats} intervals of ${this.opts.heartbeatIntervalMs} ms`,
      );
    }
  }

  private async stopSession(connectorId: string, session: Session): Promise<void> {
    if (this.sessions.get(connectorId) === session) this.sessions.delete(connectorId);
    session.connection.close(session.cut?.code ?? CloseCode.normal, session.cut?.reason ?? '');
    const released = session.lease?.release();
    if (session.worker?.getState() === 'RUNNING') session.worker.shutdown();
    const stopped = Promise.all([session.running, released]).catch(() => undefined);
    this.stopping.add(stopped);
    await stopped;
    this.stopping.delete(stopped);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeatTimer);
    for (const set of this.handshakes.values())
      for (const c of set) c.close(CloseCode.goingAway, 'gateway is shutting down');
    await Promise.all(
      [...this.sessions.keys()].map((id) => this.disconnect(id, CloseCode.goingAway, 'gateway is shutting down')),
    );
    // Workers of agents that left just before still shut down: the Temporal connection outlives them.
    await Promise.all([...this.stopping]);
  }
}
