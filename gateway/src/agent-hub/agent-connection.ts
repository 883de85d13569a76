import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { WebSocket } from 'ws';
import { ApplicationFailure } from '@temporalio/common';
import {
  AgentErrorType,
  AgentFrame,
  MAX_FRAME_BYTES,
  MAX_RESULT_BYTES,
  parseFrame,
  type AgentCapability,
  type GatewayFrame,
  type HelloFrame,
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
}

interface Pending {
  resolve: (output: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (details: unknown) => void;
}

/**
 * One agent's WebSocket after authentication: validates every frame, forwards tasks and matches
 * results, progress and failures to them. A bad frame gets a protocol-error frame and a log line;
 * it never ends the connection or the process.
 */
export class AgentConnection {
  private readonly pending = new Map<string, Pending>();
  private helloWaiter?: (hello: HelloFrame) => void;
  private closed = false;
  /** This session's id: the cluster lease and the buffer grants of its tasks name it. */
  readonly sessionId = randomUUID();
  /** When the agent last sent anything (ms): the hub drops a session silent for several heartbeat intervals. */
  lastSeenAt = Date.now();
  readonly closedPromise: Promise<{ code: number; reason: string }>;

  constructor(
    private readonly socket: WebSocket,
    readonly identity: AgentIdentity,
    private readonly log: Logger,
    private readonly maxFrameBytes = MAX_FRAME_BYTES,
    /** Sees every text frame the agent sends, before parsing (tracing, and the leak tests). */
    private readonly tap?: (raw: string) => void,
  ) {
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
      });
      // JSON has no undefined: an activity without arguments sends null.
      this.send({ type: 'task', taskId, operation, input: input ?? null, context });
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
    this.log.warn({ connectorId: this.identity.connectorId, code }, `protocol error from agent: ${message}`);
    this.send({ type: 'protocol-error', code, message });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.lastSeenAt = Date.now();
    if (isBinary) return this.protocolError('binary-frame', 'binary frames are not part of protocol v1');
    this.tap?.(data.toString('utf8'));
    const parsed = parseFrame(AgentFrame, data, this.maxFrameBytes);
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
        if (frame.outputGzip === undefined) return p.resolve(frame.output);
        try {
          p.resolve(
            JSON.parse(
              gunzipSync(Buffer.from(frame.outputGzip, 'base64'), { maxOutputLength: MAX_RESULT_BYTES }).toString(
                'utf8',
              ),
            ),
          );
        } catch (err) {
          p.reject(
            ApplicationFailure.nonRetryable(
              `the agent's compressed result could not be read: ${(err as Error).message}`,
              AgentErrorType.badInput,
            ),
          );
        }
        return;
      }
      case 'failure': {
        const p = this.settle(frame.taskId);
        if (!p) return this.protocolError('unknown-task', `no running task ${frame.taskId}`);
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
        this.send({ type: 'pong', nonce: frame.nonce });
        return;
      case 'pong':
        return;
      case 'protocol-error':
        this.log.warn(
          { connectorId: this.identity.connectorId, code: frame.code },
          `agent reported a protocol error: ${frame.message}`,
        );
        return;
    }
  }
}
