import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';
import {
  AgentErrorType,
  CloseCode,
  FailureFrame,
  GatewayFrame,
  MAX_FRAME_BYTES,
  COMPRESS_RESULT_OVER_BYTES,
  parseFrame,
  PROTOCOL_VERSION,
  AgentPlatform as AgentPlatformSchema,
  type AgentCapability,
  type AgentPlatform,
  type AgentUpdateOffer,
  type AgentFrame,
  type DoctorReport,
  type SiteApiCallsT,
  type TaskFrame,
  auditEntryFor,
} from '@vansales/protocol';
import type pino from 'pino';
import type { Span, Tracer } from '@opentelemetry/api';
import type { AgentConfig } from './config';
import { OperationError, type OperationTable } from './operations/operation';
import { machineId } from './machine-id';
import { backoffDelay } from './backoff';
import { createGatewayAuth, GatewayAuthError, type GatewayAuth } from './gateway-auth';
import type { AgentObserver } from './agent-metrics';
import { createGatewayNetwork, ProxyRefusedError, retryAfterMs, type GatewayNetwork } from './net';
import { endTaskSpan, startTaskSpan } from './task-span';

// Set by the release build (`./vsc release agent --version-override`, esbuild `define`): a release's
// version is the one it was built as; a build from the sources is the package's.
declare const __VSC_AGENT_VERSION__: string | undefined;
export const AGENT_VERSION: string = typeof __VSC_AGENT_VERSION__ === 'string' ? __VSC_AGENT_VERSION__ : '0.1.0';

/** The platform this agent runs on, as releases name it (linux-x64, win-x64); undefined elsewhere. */
export function agentPlatform(): AgentPlatform | undefined {
  const parsed = AgentPlatformSchema.safeParse(
    `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`,
  );
  return parsed.success ? parsed.data : undefined;
}

/** Why the agent stopped for good (it keeps retrying for anything else). */
export type StopReason = { code: 'key-rejected' | 'key-revoked' | 'key-bound-elsewhere' | 'stopped'; message: string };

export interface AgentOptions {
  config: AgentConfig;
  operations: OperationTable;
  log: pino.Logger;
  /** Where every task is recorded (the site's own append-only hash chain). */
  audit?: { append(entry: ReturnType<typeof auditEntryFor>): Promise<unknown> };
  /** Sessions and tasks, for the agent's metrics (off by default). */
  observer?: AgentObserver;
  /** Proxy and trusted CAs for the gateway (default: from the config and the environment). */
  network?: GatewayNetwork;
  /** Makes a span per task, joined to the gateway's trace (OTEL_EXPORTER_OTLP_ENDPOINT; off by default). */
  tracer?: Tracer;
  /**
   * Announce the platform in hello, so the gateway offers this agent its tenant's approved version
   * (a single executable that can update itself; a build from the sources cannot).
   */
  updatable?: boolean;
  /**
   * An update's trial run (issue 13 §5): the new executable proves it connects, then stops at once.
   * It runs no task (one given in that moment is left to the gateway, which fails it retryably).
   */
  trial?: boolean;
  /**
   * The doctor checks (doctor/doctor-checks.ts), reported after each welcome and every `intervalMs`
   * while connected: grants, file modes, the clock and the policy file change under a running agent.
   */
  doctor?: { run: (ctx: { gatewayTime?: string }) => Promise<DoctorReport>; intervalMs: number };
}

/**
 * The mini connector's connection to the gateway: dials out (the site opens no port), says hello,
 * runs the tasks it is given, and reconnects with exponential backoff and jitter when the link drops.
 */
export class Agent {
  private socket?: WebSocket;
  private stopped = false;
  private attempt = 0;
  private readonly running = new Map<string, AbortController>();
  private pingTimer?: NodeJS.Timeout;
  private doctorTimer?: NodeJS.Timeout;
  /** A doctor run in flight (a slow database must not stack runs up). */
  private doctoring = false;
  private reconnectTimer?: NodeJS.Timeout;
  private stopResolve?: (r: StopReason) => void;
  readonly done: Promise<StopReason>;
  /** Resolves each time the gateway welcomes us (tests and the CLI wait on it). */
  onWelcome?: (info: { connectorId: string; taskQueue: string }) => void;
  /** The gateway offers the version the tenant approved (the welcome's `update`, an `update` frame). */
  onUpdateOffer?: (offer: AgentUpdateOffer) => void;
  /** Offline on purpose (an update's trial holds the connector): no reconnect until resume(). */
  private paused = false;

  private readonly network: GatewayNetwork;
  private identity?: { tenantId: string; connectorId: string };
  private readonly auth?: GatewayAuth;

  constructor(private readonly opts: AgentOptions) {
    this.done = new Promise((resolve) => (this.stopResolve = resolve));
    const { config } = opts;
    this.network = opts.network ?? createGatewayNetwork(config);
    if (config.identityKey)
      this.auth = createGatewayAuth({
        gatewayUrl: config.gatewayUrl,
        apiKey: config.apiKey,
        identityKey: config.identityKey,
        network: this.network,
        machineLabel: machineId(config.machineId),
      });
  }

  start(): void {
    if (this.network.proxy) this.opts.log.info(`reaching the gateway through the proxy ${this.network.proxy}`);
    this.connect();
  }

  async stop(): Promise<void> {
    this.finish({ code: 'stopped', message: 'stopped' });
  }

  /**
   * Leaves the gateway and stays offline until resume(), for an update's trial run, which needs the
   * connector's one session. Waits (up to `maxWaitMs`) for the tasks in flight to finish first.
   */
  async pause(maxWaitMs: number): Promise<void> {
    const until = Date.now() + maxWaitMs;
    while (this.running.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    this.paused = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearInterval(this.pingTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => socket.once('close', r));
    socket.close(CloseCode.normal, 'agent updating');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.attempt = 0;
    this.connect();
  }

  private finish(reason: StopReason): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    clearInterval(this.doctorTimer);
    for (const c of this.running.values()) c.abort();
    this.socket?.close(CloseCode.normal, 'agent stopping');
    this.stopResolve?.(reason);
  }

  /** The gateway refused the key for good: stop, saying why. */
  private refused(status: number, message: string, reason: string | undefined): void {
    this.opts.log.error(
      { status, reason },
      `the gateway refused this agent's API key: ${message}. Not retrying with this key.`,
    );
    this.finish({
      code:
        reason === 'machine-mismatch' || reason === 'key-bound-elsewhere'
          ? 'key-bound-elsewhere'
          : status === 403
            ? 'key-revoked'
            : 'key-rejected',
      message,
    });
  }

  /** Proves the key pair (a fresh signed challenge), then dials; a refused key stops, anything else retries. */
  private connect(): void {
    if (this.stopped || this.paused) return;
    const { log } = this.opts;
    if (!this.auth) {
      log.error('this agent has no key pair (identityKey): run mini-connector run or init, which create one');
      return this.finish({ code: 'key-rejected', message: 'the agent has no key pair to prove its key with' });
    }
    this.auth.connectHeaders().then(
      (headers) => this.dial(headers),
      (err: unknown) => {
        if (this.stopped) return;
        if (err instanceof ProxyRefusedError) return this.proxyRefused(err);
        // A challenge that expired or was taken on the way is not a refusal of the key: ask again.
        if (
          err instanceof GatewayAuthError &&
          (err.status === 401 || err.status === 403) &&
          err.reason !== 'challenge-unknown'
        )
          return this.refused(err.status, err.message, err.reason);
        // Not an answer from a gateway (down, unreachable, or not speaking HTTP): the same words as for the socket.
        const detail =
          err instanceof GatewayAuthError
            ? `the gateway answered the challenge request with HTTP ${err.status}: ${err.message}`
            : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
        log.warn(`cannot reach the gateway at ${this.opts.config.gatewayUrl}${this.via()}: ${detail}`);
        this.scheduleReconnect(err instanceof GatewayAuthError ? err.retryAfterMs : undefined);
      },
    );
  }

  /** " through the proxy http://host:port" when there is one (never its credentials). */
  private via(): string {
    return this.network.proxy ? ` through the proxy ${this.network.proxy}` : '';
  }

  /**
   * The proxy refused the tunnel. Retried, but only every maxDelayMs: a proxy that checks its
   * credentials against a directory may lock the account after a few wrong passwords.
   */
  private proxyRefused(err: ProxyRefusedError): void {
    this.opts.log.error({ status: err.status }, err.message);
    this.scheduleReconnect(this.opts.config.reconnect.maxDelayMs);
  }

  private dial(headers: Record<string, string>): void {
    if (this.stopped) return;
    const { config, log } = this.opts;
    const socket = new WebSocket(config.gatewayUrl, {
      headers,
      handshakeTimeout: 15_000,
      ...(this.network.ca ? { ca: this.network.ca } : {}),
      ...(this.network.agent ? { agent: this.network.agent } : {}),
      maxPayload: 4 * 1024 * 1024,
    });
    this.socket = socket;

    socket.on('unexpected-response', (req, res) => {
      const proxyRefusal = this.network.proxyRefusal(req);
      if (proxyRefusal) {
        res.resume();
        // Scheduled first: the close that terminate() may emit must not set the ordinary backoff.
        this.proxyRefused(proxyRefusal);
        return socket.terminate();
      }
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8').slice(0, 2000)));
      res.on('end', () => {
        let message = `HTTP ${res.statusCode}`;
        let reason: string | undefined;
        try {
          const error = (JSON.parse(body) as { error?: { message?: string; reason?: string } }).error;
          message = error?.message ?? message;
          reason = error?.reason;
        } catch {
          // not our gateway, or not JSON
        }
        if ((res.statusCode === 401 || res.statusCode === 403) && reason !== 'challenge-unknown') {
          socket.terminate();
          this.refused(res.statusCode, message, reason);
        } else {
          log.warn({ status: res.statusCode }, `the gateway answered the connection with ${message}`);
          // 429 (too many failed authentications) and 503 say when to come back.
          const status = res.statusCode ?? 0;
          this.scheduleReconnect(
            status === 429 || status === 503 ? retryAfterMs(res.headers['retry-after']) : undefined,
          );
          socket.terminate();
        }
      });
    });
    socket.on('open', () => {
      this.send({
        type: 'hello',
        protocolVersion: PROTOCOL_VERSION,
        agentVersion: AGENT_VERSION,
        machineId: machineId(config.machineId),
        capabilities: Object.keys(this.opts.operations) as AgentCapability[],
        concurrency: config.concurrency,
        databases: Object.keys(config.databases),
        ...(this.opts.updatable && agentPlatform() ? { platform: agentPlatform() } : {}),
      });
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const parsed = parseFrame(GatewayFrame, data as Buffer);
      if (!parsed.ok) {
        log.warn({ code: parsed.code }, `bad frame from the gateway: ${parsed.message}`);
        this.send({ type: 'protocol-error', code: parsed.code, message: parsed.message });
        // A task we cannot read still gets an answer, so its activity fails now instead of timing out.
        const taskId = unreadableTaskId(data as Buffer);
        if (taskId)
          this.send({
            type: 'failure',
            taskId,
            errorType: AgentErrorType.badInput,
            message: `the agent could not read this task: ${parsed.message}`,
            retryable: false,
          });
        return;
      }
      this.onFrame(parsed.frame);
    });
    socket.on('close', (code, reasonBuf) => {
      const reason = reasonBuf.toString();
      clearInterval(this.pingTimer);
      clearInterval(this.doctorTimer);
      this.opts.observer?.session(false);
      // Work in flight is abandoned: the gateway fails it retryably and Temporal retries it.
      for (const c of this.running.values()) c.abort();
      this.running.clear();
      if (this.stopped || this.paused) return;
      if (code === CloseCode.keyRevoked) {
        log.error(`the gateway disconnected this agent: ${reason || 'key revoked'}. Not retrying with this key.`);
        return this.finish({ code: 'key-revoked', message: reason });
      }
      if (code === CloseCode.duplicateConnection) {
        log.error(`the gateway refused this connection: ${reason}. Each agent instance needs its own API key.`);
      } else if (code !== 1006) {
        log.warn({ code }, `disconnected from the gateway${reason ? `: ${reason}` : ''}`);
      }
      this.scheduleReconnect();
    });
    socket.on('error', (err) => {
      log.warn(
        `cannot reach the gateway at ${config.gatewayUrl}${this.via()}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
      );
    });
  }

  /** Reconnects after the backoff, or after `atLeastMs` (a Retry-After, capped) when that is longer. */
  private scheduleReconnect(atLeastMs?: number): void {
    if (this.stopped || this.paused || this.reconnectTimer) return;
    const { initialDelayMs, maxDelayMs } = this.opts.config.reconnect;
    const delay = Math.max(backoffDelay(this.attempt++, initialDelayMs, maxDelayMs), atLeastMs ?? 0);
    this.opts.log.info(`reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private send(frame: AgentFrame): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private onFrame(frame: GatewayFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.attempt = 0;
        this.identity = { tenantId: frame.tenantId, connectorId: frame.connectorId };
        this.opts.log.info({ connectorId: frame.connectorId, taskQueue: frame.taskQueue }, 'connected to the gateway');
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: 'ping', nonce: randomUUID() }), frame.heartbeatIntervalMs);
        this.pingTimer.unref();
        this.opts.observer?.session(true);
        this.startDoctor(frame.gatewayTime);
        this.onWelcome?.({ connectorId: frame.connectorId, taskQueue: frame.taskQueue });
        if (frame.update && !this.opts.trial) this.onUpdateOffer?.(frame.update);
        return;
      case 'update':
        if (!this.opts.trial) this.onUpdateOffer?.(frame.offer);
        return;
      case 'task':
        if (!this.opts.trial) void this.runTask(frame);
        return;
      case 'cancel':
        this.running.get(frame.taskId)?.abort();
        return;
      case 'ping':
        this.send({ type: 'pong', nonce: frame.nonce });
        return;
      case 'pong':
        return;
      case 'protocol-error':
        this.opts.log.warn({ code: frame.code }, `the gateway reported a protocol error: ${frame.message}`);
        return;
    }
  }

  /** Reports the doctor's warnings now and every interval while this session lasts. */
  private startDoctor(gatewayTime: string | undefined): void {
    const doctor = this.opts.doctor;
    clearInterval(this.doctorTimer);
    if (!doctor) return;
    // The gateway's clock is known at the welcome only: later runs add the time elapsed since.
    const welcomedAt = Date.now();
    const gatewayAt = gatewayTime ? Date.parse(gatewayTime) : undefined;
    const report = () => {
      if (this.doctoring) return;
      this.doctoring = true;
      const gatewayNow =
        gatewayAt === undefined ? undefined : new Date(gatewayAt + (Date.now() - welcomedAt)).toISOString();
      doctor
        .run(gatewayNow ? { gatewayTime: gatewayNow } : {})
        .then(
          (r) => this.send({ type: 'doctor', ...r }),
          (err: unknown) => this.opts.log.warn(`the doctor checks failed: ${(err as Error).message}`),
        )
        .finally(() => (this.doctoring = false));
    };
    report();
    this.doctorTimer = setInterval(report, doctor.intervalMs);
    this.doctorTimer.unref();
  }

  private async runTask(task: TaskFrame): Promise<void> {
    const handler = this.opts.operations[task.operation];
    const log = this.opts.log.child({
      taskId: task.taskId,
      operation: task.operation,
      workflowId: task.context.workflowId,
    });
    if (!handler) {
      this.send({
        type: 'failure',
        taskId: task.taskId,
        errorType: AgentErrorType.unsupportedOperation,
        message: `this agent does not offer ${task.operation}`,
        retryable: false,
      });
      return;
    }
    const controller = new AbortController();
    this.running.set(task.taskId, controller);
    const started = Date.now();
    const span = this.opts.tracer && startTaskSpan(this.opts.tracer, task);
    // The calls of a site step's API operation, sent beside the answer for the gateway's call audit.
    let apiCalls: SiteApiCallsT | undefined;
    try {
      const output = await handler(task.input, {
        signal: controller.signal,
        progress: (details) => this.send({ type: 'heartbeat', taskId: task.taskId, details }),
        attempt: task.context.attempt,
        resumeFrom: task.context.resumeFrom,
        reportApiCalls: (report) => void (apiCalls = report),
      });
      if (controller.signal.aborted) return this.record(task, started, { errorType: AgentErrorType.cancelled }, span);
      this.send(resultFrame(task.taskId, output, apiCalls));
      log.info({ ms: Date.now() - started }, 'task done');
      this.record(task, started, { output }, span);
    } catch (err) {
      if (controller.signal.aborted) return this.record(task, started, { errorType: AgentErrorType.cancelled }, span);
      const failure =
        err instanceof OperationError
          ? { errorType: err.type, message: err.message, retryable: err.retryable }
          : {
              errorType: AgentErrorType.internal,
              message: err instanceof Error ? err.message : String(err),
              retryable: true,
            };
      log.warn({ errorType: failure.errorType, ms: Date.now() - started }, `task failed: ${failure.message}`);
      this.send(failureFrame(task.taskId, failure, apiCalls));
      this.record(task, started, { errorType: failure.errorType }, span);
    } finally {
      this.running.delete(task.taskId);
    }
  }

  /** Appends the task to the site's audit chain; a write failure is logged loudly, never silent. */
  private record(
    task: TaskFrame,
    started: number,
    result: { output?: unknown; errorType?: string },
    span?: Span,
  ): void {
    this.opts.observer?.task(task.operation, result.errorType ?? 'ok', (Date.now() - started) / 1000);
    endTaskSpan(span, result.errorType ?? 'ok');
    if (!this.opts.audit || !this.identity) return;
    const entry = auditEntryFor({
      ...this.identity,
      operation: task.operation,
      input: task.input,
      actor: {
        workflowId: task.context.workflowId,
        runId: task.context.runId,
        activityId: task.context.activityId,
        attempt: task.context.attempt,
      },
      durationMs: Date.now() - started,
      ...result,
    });
    this.opts.audit
      .append(entry)
      .catch((err) =>
        this.opts.log.error(`could not write the audit record of task ${task.taskId}: ${(err as Error).message}`),
      );
  }
}

/** The taskId of a frame that claims to be a task but failed validation, if it has a usable one. */
function unreadableTaskId(raw: Buffer): string | undefined {
  try {
    const value = JSON.parse(raw.toString('utf8')) as { type?: unknown; taskId?: unknown };
    return value.type === 'task' &&
      typeof value.taskId === 'string' &&
      value.taskId.length > 0 &&
      value.taskId.length <= 128
      ? value.taskId
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A failure frame whatever the error says: the gateway refuses a frame whose message passes the
 * protocol's limit, and the task would then wait for its timeout and be retried instead of failing
 * with the message (a 100 KB name echoed in an error did that). Long messages are cut, marked so.
 */
export function failureFrame(
  taskId: string,
  failure: { errorType: string; message: string; retryable: boolean },
  apiCalls?: SiteApiCallsT,
): AgentFrame {
  const max = FailureFrame.shape.message.maxLength ?? 8192;
  const message =
    failure.message.length <= max
      ? failure.message
      : `${failure.message.slice(0, max - 40)}... (${failure.message.length} characters, cut)`;
  return { type: 'failure', taskId, ...failure, message, ...(apiCalls ? { apiCalls } : {}) };
}

/**
 * The result frame of an output: as JSON, or gzip-compressed when large (schemas of thousands of
 * tables). An output that does not fit even compressed fails the task with a clear message.
 */
function resultFrame(taskId: string, output: unknown, apiCalls?: SiteApiCallsT): AgentFrame {
  const calls = apiCalls ? { apiCalls } : {};
  const json = JSON.stringify(output ?? null);
  if (Buffer.byteLength(json) <= COMPRESS_RESULT_OVER_BYTES)
    return { type: 'result', taskId, output: output ?? null, ...calls };
  const outputGzip = gzipSync(json).toString('base64');
  // The call report rides in the same frame (bounded: MAX_SITE_API_CALL_RECORDS records).
  const room = MAX_FRAME_BYTES - 1024 - (apiCalls ? Buffer.byteLength(JSON.stringify(apiCalls)) : 0);
  if (outputGzip.length > room) {
    return failureFrame(
      taskId,
      {
        errorType: AgentErrorType.badInput,
        message: `the result (${Buffer.byteLength(json)} bytes as JSON, ${outputGzip.length} compressed) does not fit in one frame; ask for less at a time`,
        retryable: false,
      },
      apiCalls,
    );
  }
  return { type: 'result', taskId, outputGzip, ...calls };
}
