import type { SandboxHttpRequest, SandboxHttpResponse } from './egress/host-http';
import type { SandboxErrorCode } from './errors';
import type { SandboxLimits } from './limits';

/** What the host gives a sandbox's worker thread when it starts it. */
export interface VmWorkerData {
  limits: SandboxLimits;
  /** The warm-call channel's shared memory (call-channel.ts); absent when the sandbox has it off. */
  channel?: SharedArrayBuffer;
}

/** Host to worker. Inputs are JSON text (the host checked they are JSON); `id` names the call. */
export type ToVmWorker =
  | { t: 'load'; id: number; bundle: string }
  | { t: 'run'; id: number; vm: number; operation: string; input: string }
  | { t: 'once'; id: number; bundle: string; operation: string; input: string }
  | { t: 'dispose'; vm: number }
  | { t: 'ping'; n: number }
  | { t: 'http'; req: number; ok: true; response: SandboxHttpResponse }
  | { t: 'http'; req: number; ok: false; code?: string; message: string };

/** Worker to host: a call's end (a loaded bundle is named by its load call's id), or one HTTP request of a call. */
export type FromVmWorker =
  | { t: 'ready' }
  | { t: 'pong'; n: number }
  | { t: 'done'; id: number; ok: true; operations?: string[]; result?: string }
  | { t: 'done'; id: number; ok: false; code: SandboxErrorCode; message: string }
  | { t: 'http'; id: number; req: number; request: SandboxHttpRequest };
