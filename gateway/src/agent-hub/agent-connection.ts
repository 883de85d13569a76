import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { WebSocket } from 'ws';
import { ApplicationFailure } from '@temporalio/common';
import {
  AgentErrorType,
  AgentFrame,
  CloseCode,
  MAX_FRAME_BYTES,
  MAX_RESULT_BYTES,
  parseFrame,
  type AgentCapability,
  type DoctorReport,
  type GatewayFrame,
  type HelloFrame,
  type TraceContext,
} from '@vansales/protocol';
import type { Logger } from '../logger';

export interface AgentIdentity {
  tenantId: string;
  connectorId: string;
  /** Safe label of the key (tenant and lookup id), for logs. */
  keyLabel: string;
  /** Lookup id of the key (not secret): the hub checks the key again after hello. */
  keyLookup: string;
}

export interface TaskContext {
  workflowId: string;
  runId: string;
  activityId: string;
  attempt: number;
  resumeFrom?: unknown;
}

export interface TaskHooks {
  /** Aborted when Temporal cancels the activity. */
  signal?: AbortSignal;
  /** Called with each progress report of the agent. */
  onProgress?: (details: unknown) => void;
  /** Called with the call report beside the answer (unparsed: the call audit validates it), before it settles. */
  onApiCalls?: (report: unknown) => void;
  /** The trace the task runs under, for the agent's span (the frame's `trace`). */
  trace?: TraceContext;
}

// Async: zlib works on the thread pool, so a result that expands to megabytes (or a bomb that would
// expand to gigabytes, stopped at maxOutputLength) never stalls the event loop other agents share.
const gunzipAsync = promisify(gunzip);

/** What one agent connection may cost the gateway; the gateway decides, never the agent. */
export interface AgentConnectionLimits {
  /** Largest text frame parsed; a larger one gets a protocol error (the socket's own cap is twice this). */
  maxFrameBytes: number;
  /** Largest result once decompressed (a schema snapshot is the largest one); more is refused. */
  maxResultBytes: number;
  /** Bad frames (and pings past the ping budget) allowed per window; one more closes the socket. */
  maxProtocolErrors: number;
  /** Pings answered per window; an agent pings once per heartbeat interval. */
  maxPings: number;
  /** Protocol errors logged one by one per window; the rest are counted in one summary line. */
  maxLoggedErrors: number;
  windowMs: number;
  /** Doctor reports accepted per window (an agent sends one per connection and per interval, at least 10 s apart). */
  maxDoctorReports: number;
}

export const DEFAULT_CONNECTION_LIMITS: AgentConnectionLimits = {
  maxFrameBytes: MAX_FRAME_BYTES,
  maxResultBytes: 16 * 1024 * 1024,
  maxProtocolErrors: 20,
  maxPings: 20,
  maxLoggedErrors: 5,
  windowMs: 10_000,
  maxDoctorReports: 2,
};

/** Counts events in fixed windows: enough to bound a flood without remembering each event. */
class WindowCounter {
  private start = 0;
  count = 0;
  /** Events of the window that ended, reported once (then zero). */
  private previous = 0;
  constructor(private readonly windowMs: number) {}
  /** Counts one event; returns how many the current window holds now. */
  hit(now = Date.now()): number {
    if (now - this.start >= this.windowMs) {
      this.previous = this.count;
      this.start = now;
      this.count = 0;
    }
    this.count += 1;
    return this.count;
  }
  /** The count of the window before the current one, once. */
  takePrevious(): number {
    const n = this.previous;
    this.previous = 0;
    return n;
  }
}

interface Pending {
  resolve: (output: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (details: unknown) => void;
  onApiCalls?: (report: unknown) => void;
}

/**
 * One agent's WebSocket after authentication: validates every frame, forwards tasks and matches
 * results, progress and failures to them. A bad frame gets a protocol-error frame and a log line,
 * within limits: past `maxProtocolErrors` bad frames in a window the socket is closed, and past
 * `maxLoggedErrors` the log gets one summary line per window, so a flood costs bounded work and log.
 */
export class AgentConnection {
  private readonly pending = new Map<string, Pending>();
  private helloWaiter?: (hello: HelloFrame) => void;
  private closed = false;
  /** This session's id: the cluster lease and the buffer grants of its tasks name it. */
  readonly sessionId = randomUUID();
  /** When the agent last sent anything (ms): the hub drops a session silent for several heartbeat intervals. */
  lastSeenAt = Date.now();
  private readonly limits: AgentConnectionLimits;
  private readonly errors: WindowCounter;
  private readonly pings: WindowCounter;
  private readonly doctorReports: WindowCounter;
  /** Receives each accepted doctor report (the hub stores it once the session is welcomed). */
  onDoctor?: (report: DoctorReport) => void;
  readonly closedPromise: Promise<{ code: number; reason: string }>;

  constructor(
    private readonly socket: WebSocket,
    readonly identity: AgentIdentity,
    private readonly log: Logger,
    maxFrameBytes = MAX_FRAME_BYTES,
    /** Sees every text frame the agent sends, before parsing (tracing, and the leak tests). */
    private readonly tap?: (raw: string) => void,
    limits: Partial<AgentConnectionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, maxFrameBytes, ...limits };
    this.limits.maxResultBytes = Math.min(this.limits.maxResultBytes, MAX_RESULT_BYTES);
    this.errors = new WindowCounter(this.limits.windowMs);
    this.pings = new WindowCounter(this.limits.windowMs);
    this.doctorReports = new WindowCounter(this.limits.windowMs);
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closed = true;
        this.failAll(
          `the agent disconnected (code ${code}) while the task ran; Temporal retries it when the agent is back`,
        );
        resolve({ code, reason: reason.toString() });
      });
    });
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('error', (err) =>
      this.log.warn({ err: err.message, connectorId: identity.connectorId }, 'agent socket error'),
    );
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  waitForHello(timeoutMs: number): Promise<HelloFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no hello within ${timeoutMs} ms`)), timeoutMs);
      this.helloWaiter = (hello) => {
        clearTimeout(timer);
        resolve(hello);
      };
      void this.closedPromise.then(() => {
        clearTimeout(timer);
        reject(new Error('closed before hello'));
      });
    });
  }

  send(frame: GatewayFrame): void {
    if (!this.closed) this.socket.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.socket.close(code, reason);
  }

  /** Sends one task and settles with the agent's result or failure. */
  runTask(operation: AgentCapability, input: unknown, context: TaskContext, hooks: TaskHooks = {}): Promise<unknown> {
    if (this.closed) {
      return Promise.reject(
        ApplicationFailure.retryable('the agent is not connected', AgentErrorType.agentDisconnected),
      );
    }
    const taskId = randomUUID();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.send({ type: 'cancel', taskId, reason: 'cancelled by Temporal' });
        this.settle(taskId);
        reject(hooks.signal?.reason instanceof Error ? hooks.signal.reason : new Error('cancelled'));
      };
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(taskId, {
        resolve: (v) => {
          hooks.signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e) => {
          hooks.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onProgress: hooks.onProgress,
        onApiCalls: hooks.onApiCalls,
      });
      // JSON has no undefined: an activity without arguments sends null.
      this.send({
        type: 'task',
        taskId,
        operation,
        input: input ?? null,
        context,
        ...(hooks.trace ? { trace: hooks.trace } : {}),
      });
    });
  }

  private settle(taskId: string): Pending | undefined {
    const p = this.pending.get(taskId);
    this.pending.delete(taskId);
    return p;
  }

  private failAll(message: string): void {
    for (const [taskId, p] of this.pending) {
      this.pending.delete(taskId);
      p.reject(ApplicationFailure.retryable(message, AgentErrorType.agentDisconnected));
    }
  }

  private protocolError(code: string, message: string): void {
    if (this.closed) return;
    const { maxProtocolErrors, maxLoggedErrors, windowMs } = this.limits;
    const count = this.errors.hit();
    const connectorId = this.identity.connectorId;
    const suppressed = this.errors.takePrevious() - maxLoggedErrors;
    if (suppressed > 0) this.log.warn({ connectorId, suppressed }, 'further protocol errors from agent not logged');
    if (count > maxProtocolErrors) {
      this.log.warn(
        { connectorId, code, limit: maxProtocolErrors, windowMs },
        'closing the agent connection: too many protocol errors',
      );
      this.closed = true;
      this.socket.close(
        CloseCode.tooManyProtocolErrors,
        `more than ${maxProtocolErrors} protocol errors within ${windowMs} ms`,
      );
      return;
    }
    if (count <= maxLoggedErrors) this.log.warn({ connectorId, code }, `protocol error from agent: ${message}`);
    this.send({ type: 'protocol-error', code, message });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    this.lastSeenAt = Date.now();
    if (isBinary) return this.protocolError('binary-frame', 'binary frames are not part of protocol v1');
    this.tap?.(data.toString('utf8'));
    const parsed = parseFrame(AgentFrame, data, this.limits.maxFrameBytes);
    if (!parsed.ok) return this.protocolError(parsed.code, parsed.message);
    const frame = parsed.frame;
    switch (frame.type) {
      case 'hello':
        if (this.helloWaiter) {
          const waiter = this.helloWaiter;
          this.helloWaiter = undefined;
          waiter(frame);
        } else {
          this.protocolError('unexpected-hello', 'hello was already received');
        }
        return;
      case 'result': {
        const p = this.settle(frame.taskId);
        if (!p) return this.protocolError('unknown-task', `no running task ${frame.taskId}`);
        if (frame.apiCalls !== undefined) p.onApiCalls?.(frame.apiCalls);
        if (frame.outputGzip === undefined) return p.resolve(frame.output);
        void this.readCompressed(frame.outputGzip).then(p.resolve, p.reject);
        return;
      }
      case 'failure': {
        const p = this.settle(frame.taskId);
        if (!p) return this.protocolError('unknown-task', `no running task ${frame.taskId}`);
        if (frame.apiCalls !== undefined) p.onApiCalls?.(frame.apiCalls);
        p.reject(
          ApplicationFailure.create({ type: frame.errorType, message: frame.message, nonRetryable: !frame.retryable }),
        );
        return;
      }
      case 'heartbeat': {
        const p = this.pending.get(frame.taskId);
        if (!p) return this.protocolError('unknown-task', `no running task ${frame.taskId}`);
        p.onProgress?.(frame.details);
        return;
      }
      case 'ping':
        if (this.pings.hit() > this.limits.maxPings) {
          return this.protocolError(
            'too-many-pings',
            `at most ${this.limits.maxPings} pings per ${this.limits.windowMs} ms`,
          );
        }
        this.send({ type: 'pong', nonce: frame.nonce });
        return;
      case 'pong':
        return;
      case 'doctor': {
        // Each report rewrites a row: a flood of them is refused before it reaches the store.
        if (this.doctorReports.hit() > this.limits.maxDoctorReports)
          return this.protocolError(
            'too-many-doctor-reports',
            `at most ${this.limits.maxDoctorReports} doctor reports per ${this.limits.windowMs} ms`,
          );
        const { type: _type, ...report } = frame;
        this.onDoctor?.(report);
        return;
      }
      case 'protocol-error':
        this.log.warn(
          { connectorId: this.identity.connectorId, code: frame.code },
          `agent reported a protocol error: ${frame.message}`,
        );
        return;
    }
  }

  /** A compressed result, decompressed off the event loop and refused past the result cap. */
  private async readCompressed(outputGzip: string): Promise<unknown> {
    const max = this.limits.maxResultBytes;
    let text: string;
    try {
      text = (await gunzipAsync(Buffer.from(outputGzip, 'base64'), { maxOutputLength: max })).toString('utf8');
    } catch (err) {
      const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
      this.log.warn(
        { connectorId: this.identity.connectorId, limit: max, tooLarge },
        'refused a compressed result from the agent',
      );
      throw ApplicationFailure.nonRetryable(
        tooLarge
          ? `the agent's result expands to more than ${max} bytes, the gateway's limit (VSC_AGENT_MAX_RESULT_BYTES); ask for less (fewer schemas, fewer rows)`
          : `the agent's compressed result could not be read: ${(err as Error).message}`,
        AgentErrorType.badInput,
      );
    }
    try {
      return JSON.parse(text);
    } catch {
      throw ApplicationFailure.nonRetryable("the agent's compressed result is not JSON", AgentErrorType.badInput);
    }
  }
}
