import type { Worker } from 'node:worker_threads';
import { startWorkerEntry } from '@vansales/transforms/worker-entry';
import { HostCallChannel, type ChannelAnswer } from './call-channel';
import { CallQueue } from './call-queue';
import { SandboxHttpRequest, type HostHttp } from './egress/host-http';
import { SandboxError, SandboxErrorCode } from './errors';
import { parseSandboxLimits, type SandboxLimits, type SandboxLimitsInput } from './limits';
import { inputJson } from './vm';
import type { FromVmWorker, ToVmWorker, VmWorkerData } from './worker-protocol';

export interface RunOperationRequest {
  /** The operation bundle: JavaScript (a CommonJS-style script assigning `module.exports[operationKey]`). */
  bundle: string;
  /** The manifest's stable operation key. */
  operation: string;
  /** The operation's input: JSON (parameters and body as the manifest describes them). */
  input: unknown;
  /** The host's guarded HTTP (egress allowlist, pinning, credentials): the only way out of the VM. */
  http: HostHttp;
}

/** A bundle loaded in its own runtime and context, for several calls in a row (warm calls). */
export interface LoadedBundle {
  /** Operation keys the bundle exports (functions only). */
  readonly operations: readonly string[];
  /** Runs one operation; calls on one LoadedBundle run one at a time, in order. */
  run(operation: string, input: unknown, http: HostHttp): Promise<unknown>;
  dispose(): void;
}

export interface Sandbox {
  readonly limits: SandboxLimits;
  /**
   * One operation in a fresh QuickJS runtime and context, disposed after: nothing of one call (its
   * input, globals it set, its pending promises) is visible to the next.
   */
  runOperation(request: RunOperationRequest): Promise<unknown>;
  /**
   * A bundle kept loaded for warm calls. Calls share the VM's globals: use it for calls of one
   * tenant's one bundle (a step's pages or records), never across tenants.
   */
  load(bundle: string): Promise<LoadedBundle>;
  /** Stops the worker thread (calls in flight fail); the next call starts another. */
  close(): Promise<void>;
}

export interface SandboxOptions {
  /**
   * Warm calls of loaded bundles through the shared-memory call channel (call-channel.ts). Default
   * true: a warm call that awaits no HTTP then runs in the worker without an event-loop turn (the idle
   * worker waits in Atomics.wait), and the host polls briefly for its end (bench/README.md, sandbox:
   * as fast as postMessage when the two threads share a core, about twice as fast when they do not).
   * False sends every call by postMessage.
   */
  callChannel?: boolean;
}

/**
 * How long the host waits past a call's deadline before it asks the worker whether its thread still
 * answers, and how long it waits for that answer before terminating the thread. The VM's interrupt
 * handler stops a call at its deadline itself, and a thread that answers enforces its calls' deadlines
 * (a call queued behind a slow load is not cut short); a thread that does not answer is held by a
 * built-in that runs long between two interrupt checks (a `'x'.repeat` of millions, a sparse fill).
 */
const TERMINATE_GRACE_MS = 1000;

/**
 * The operation sandbox: QuickJS compiled to WebAssembly with memory, stack and time limits and no
 * ambient authority, in a worker thread of its own (one per sandbox, started on first use, `unref`'d
 * while idle) that the host terminates when a call overruns its deadline: QuickJS counts operations,
 * not time, so a slow built-in would otherwise hold the calling thread for tens of seconds. The VM has
 * the language's built-ins only (no require, process, timers, fetch or host object); JSON goes in and
 * out as text; HTTP is one function, `ctx.http(request)` in `module.exports[key](input, ctx)`, whose
 * requests cross to this thread and run through the host's `HostHttp` (egress guard, credentials): the
 * worker never holds a credential. A worker terminated or out of memory fails its calls in flight
 * (each a SandboxError) and is replaced on the next call; bundles loaded in it must be loaded again.
 */
export function createSandbox(limits: SandboxLimitsInput = {}, options: SandboxOptions = {}): Sandbox {
  const parsed = parseSandboxLimits(limits);
  const host = new VmWorkerHost(parsed, options.callChannel ?? true);
  return {
    limits: parsed,
    async runOperation(request) {
      const bundle = checkedBundle(request.bundle);
      const done = await host.call(
        { t: 'once', bundle, operation: request.operation, input: inputJson(request.input) },
        request.http,
      );
      return JSON.parse(done.result!) as unknown;
    },
    async load(bundle) {
      const generation = host.generation();
      const loaded = await host.call({ t: 'load', bundle: checkedBundle(bundle) }, undefined, generation);
      return new WorkerBundle(host, generation, loaded.id, loaded.operations ?? []);
    },
    close: () => host.close(),
  };
}

function checkedBundle(bundle: unknown): string {
  if (typeof bundle !== 'string' || bundle.length === 0)
    throw new SandboxError(SandboxErrorCode.badBundle, 'the operation bundle is empty');
  return bundle;
}

type Done = Extract<FromVmWorker, { t: 'done'; ok: true }>;
type CallMessage =
  Extract<ToVmWorker, { id: number }> extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

interface PendingCall {
  resolve: (done: Done) => void;
  reject: (err: SandboxError) => void;
  http: HostHttp | undefined;
  timer: NodeJS.Timeout;
  /** The host-side requests of the call, aborted when it ends. */
  requests: Map<number, AbortController>;
}

/** One worker thread and the calls in flight in it; once dead (terminated, crashed), never used again. */
interface Generation {
  worker: Promise<Worker>;
  /** The worker once it is ready (calls then start without waiting for a promise). */
  ready?: Worker;
  /** Warm calls of loaded bundles, in shared memory (call-channel.ts); the rest goes by postMessage. */
  channel: HostCallChannel;
  pending: Map<number, PendingCall>;
  dead?: SandboxError;
  /** The last ping sent, and whether its pong came back. */
  ping: { n: number; answered: boolean };
}

class VmWorkerHost {
  private current: Generation | undefined;
  private nextId = 0;

  constructor(
    private readonly limits: SandboxLimits,
    private readonly useChannel: boolean,
  ) {}

  /** The live worker, started when there is none (or the last one died). */
  generation(): Generation {
    if (this.current && !this.current.dead) return this.current;
    const channel = new HostCallChannel();
    const generation: Generation = {
      channel,
      pending: new Map(),
      ping: { n: 0, answered: true },
      // dist/vm-worker.js beside a process bundle's main (tsup.process.ts), else vm-worker.ts through tsx.
      worker: Promise.resolve()
        .then(() =>
          startWorkerEntry(__dirname, 'vm-worker', {
            name: 'vsc-sandbox',
            workerData: {
              limits: this.limits,
              ...(this.useChannel ? { channel: channel.buffer } : {}),
            } satisfies VmWorkerData,
            resourceLimits: {
              // The VMs' heaps are WebAssembly memory (capped by QuickJS itself); the thread's own heap holds
              // inputs and results as text (UTF-16: two bytes a character, a few copies on the way).
              maxOldGenerationSizeMb: 96 + Math.ceil((this.limits.maxResultChars * 6) / 2 ** 20),
              maxYoungGenerationSizeMb: 16,
              stackSizeMb: 4,
            },
          }),
        )
        .then(
          // Usable once it has loaded QuickJS: a call's deadline does not include the thread's start.
          (worker) =>
            new Promise<Worker>((resolve, reject) => {
              worker.unref();
              const failed = (err: Error) => {
                void worker.terminate();
                reject(err);
              };
              worker.once('error', failed);
              worker.once('message', () => {
                worker.off('error', failed);
                resolve(worker);
              });
            }),
        ),
    };
    generation.worker.then(
      (worker) => {
        worker.unref();
        generation.ready = worker;
        if (generation.dead) {
          void worker.terminate();
          return;
        }
        worker.on('message', (message: FromVmWorker) => this.onMessage(generation, worker, message));
        worker.on('error', (err: Error & { code?: string }) =>
          this.kill(
            generation,
            new SandboxError(
              SandboxErrorCode.resources,
              err.code === 'ERR_WORKER_OUT_OF_MEMORY'
                ? "the sandbox's worker thread ran out of memory; it was stopped"
                : `the sandbox's worker thread failed: ${err.message}`,
            ),
          ),
        );
        worker.on('exit', (code) =>
          this.kill(
            generation,
            new SandboxError(SandboxErrorCode.resources, `the sandbox's worker thread stopped (exit code ${code})`),
          ),
        );
      },
      (err: Error) =>
        this.kill(
          generation,
          new SandboxError(SandboxErrorCode.resources, `the sandbox's worker thread did not start: ${err.message}`),
        ),
    );
    this.current = generation;
    return generation;
  }

  /**
   * One call in the worker: its end, on the calling task when a warm call came back through the call
   * channel within its synchronous wait, else a promise of it. Throws (synchronously) a call's failure
   * from the channel, or the generation's death.
   */
  call(message: CallMessage, http: HostHttp | undefined, generation = this.generation()): Done | Promise<Done> {
    if (generation.dead) throw generation.dead;
    const worker = generation.ready;
    if (!worker) return generation.worker.then(() => this.call(message, http, generation));
    const id = ++this.nextId;
    if (message.t === 'run' && this.useChannel) {
      const sent = generation.channel.call(id, message.vm, message.operation, message.input, (answer) =>
        this.onChannel(generation, worker, id, answer),
      );
      // The end within the synchronous wait: no timer, no pending entry, no event-loop turn.
      if (typeof sent === 'object' && !('byPort' in sent)) {
        if (sent.ok) return { t: 'done', id, ok: true, result: sent.result };
        throw new SandboxError(sent.code, sent.message);
      }
      // Under way on the channel, or its end on the way by postMessage.
      if (sent !== false) return this.pending(generation, worker, id, http);
    }
    const ended = this.pending(generation, worker, id, http);
    this.postTo(generation, worker, { ...message, id } as ToVmWorker);
    return ended;
  }

  /** A call the worker has (or is about to have): settled by its end, its deadline watched by its timer. */
  private pending(generation: Generation, worker: Worker, id: number, http: HostHttp | undefined): Promise<Done> {
    return new Promise<Done>((resolve, reject) => {
      const timer = setTimeout(() => this.overran(generation, id), this.limits.timeoutMs + TERMINATE_GRACE_MS);
      generation.pending.set(id, { resolve, reject, http, timer, requests: new Map() });
      // Referenced while a call is in flight, so a process that awaits it stays up.
      if (generation.pending.size === 1) worker.ref();
    });
  }

  /** Every message to the worker goes here: the call channel counts it and wakes the worker's wait loop to read it. */
  private postTo(generation: Generation, worker: Worker, message: ToVmWorker): void {
    worker.postMessage(message);
    generation.channel.posted();
  }

  post(generation: Generation, message: ToVmWorker): void {
    if (generation.dead) return;
    void generation.worker.then((worker) => generation.dead || this.postTo(generation, worker, message));
  }

  private onMessage(generation: Generation, worker: Worker, message: FromVmWorker): void {
    if (message.t === 'ready') return;
    if (message.t === 'pong') {
      if (message.n === generation.ping.n) generation.ping.answered = true;
      return;
    }
    const pending = generation.pending.get(message.id);
    if (!pending) return;
    if (message.t === 'done') {
      generation.pending.delete(message.id);
      this.settle(pending);
      if (generation.pending.size === 0) worker.unref();
      if (message.ok) pending.resolve(message);
      else pending.reject(new SandboxError(message.code, message.message));
      return;
    }
    this.onHttp(generation, worker, pending, message);
  }

  /** A call's end from the call channel; one too big for it comes by postMessage (onMessage). */
  private onChannel(generation: Generation, worker: Worker, id: number, answer: ChannelAnswer): void {
    if ('byPort' in answer || generation.dead) return;
    this.onMessage(generation, worker, { t: 'done', id, ...answer });
  }

  /** One request of a call, made here by the host's HostHttp (guard, pinning, credentials); the worker gets the answer. */
  private onHttp(
    generation: Generation,
    worker: Worker,
    pending: PendingCall,
    message: Extract<FromVmWorker, { t: 'http' }>,
  ): void {
    const answer = (reply: ToVmWorker) => {
      pending.requests.delete(message.req);
      if (!generation.dead) this.postTo(generation, worker, reply);
    };
    // The worker validated the request already; the host does not take its word for it.
    const request = SandboxHttpRequest.safeParse(message.request);
    if (!pending.http || !request.success) {
      answer({ t: 'http', req: message.req, ok: false, message: 'bad HTTP request' });
      return;
    }
    const abort = new AbortController();
    pending.requests.set(message.req, abort);
    pending.http(request.data, abort.signal).then(
      (response) => answer({ t: 'http', req: message.req, ok: true, response }),
      (err: unknown) => {
        const e = err as { code?: unknown; message?: unknown };
        answer({
          t: 'http',
          req: message.req,
          ok: false,
          message: typeof e?.message === 'string' ? e.message : 'the request failed',
          ...(typeof e?.code === 'string' ? { code: e.code } : {}),
        });
      },
    );
  }

  private settle(pending: PendingCall): void {
    clearTimeout(pending.timer);
    for (const abort of pending.requests.values()) abort.abort();
    pending.requests.clear();
  }

  /**
   * A call not reported by its deadline (and the grace): the thread is asked whether it answers; one
   * that answers enforces the deadline itself (the call's timer is armed again), one that does not is
   * held by its VM and is terminated.
   */
  private overran(generation: Generation, id: number): void {
    const pending = generation.pending.get(id);
    if (!pending || generation.dead) return;
    const ping = generation.ping.answered ? { n: generation.ping.n + 1, answered: false } : generation.ping;
    if (ping !== generation.ping) {
      generation.ping = ping;
      this.post(generation, { t: 'ping', n: ping.n });
    }
    pending.timer = setTimeout(() => {
      if (generation.pending.get(id) !== pending || generation.dead) return;
      if (ping.answered) return this.overran(generation, id);
      generation.pending.delete(id);
      this.settle(pending);
      pending.reject(
        new SandboxError(
          SandboxErrorCode.timeout,
          `the operation ran longer than ${this.limits.timeoutMs} ms; it was stopped (its worker thread was terminated)`,
        ),
      );
      this.kill(
        generation,
        new SandboxError(
          SandboxErrorCode.resources,
          "the sandbox's worker thread was terminated: another operation in it ran past its deadline; run this one again",
        ),
      );
    }, TERMINATE_GRACE_MS);
  }

  /** Ends a generation: its calls in flight fail with `reason`, its thread is terminated. */
  private kill(generation: Generation, reason: SandboxError): void {
    if (generation.dead) return;
    generation.dead = reason;
    generation.channel.close();
    for (const pending of generation.pending.values()) {
      this.settle(pending);
      pending.reject(reason);
    }
    generation.pending.clear();
    generation.worker.then(
      (worker) => void worker.terminate(),
      () => undefined,
    );
  }

  async close(): Promise<void> {
    const generation = this.current;
    this.current = undefined;
    if (!generation) return;
    this.kill(generation, new SandboxError(SandboxErrorCode.resources, 'the sandbox was closed'));
    await generation.worker.then(
      (worker) => worker.terminate(),
      () => undefined,
    );
  }
}

/** A bundle loaded in the sandbox's worker; dead with its worker. */
class WorkerBundle implements LoadedBundle {
  private disposed = false;
  /**
   * The bundle's last call still in flight: the next is sent when it has ended. Calls travel two ways
   * (the call channel, postMessage when it is taken), so the worker's arrival order is not the call
   * order; one call in flight per bundle keeps them in order (and a call's deadline starts when it is
   * sent). A call that ended on the calling task (the channel's fast path) leaves none.
   */
  private readonly calls = new CallQueue();

  constructor(
    private readonly host: VmWorkerHost,
    private readonly generation: Generation,
    private readonly vm: number,
    readonly operations: readonly string[],
  ) {}

  async run(operation: string, input: unknown, http: HostHttp): Promise<unknown> {
    if (this.disposed || this.generation.dead)
      throw new SandboxError(
        SandboxErrorCode.resources,
        'the sandbox was stopped by an earlier failure; load the bundle again',
      );
    if (!this.operations.includes(operation))
      throw new SandboxError(
        SandboxErrorCode.unknownOperation,
        `the bundle has no operation ${JSON.stringify(operation)} (it has ${this.operations.length ? this.operations.join(', ') : 'none'})`,
      );
    const message = { t: 'run', vm: this.vm, operation, input: inputJson(input) } as const;
    const previous = this.calls.last;
    const call = previous
      ? previous.then(() => this.host.call(message, http, this.generation))
      : this.host.call(message, http, this.generation);
    const done = call instanceof Promise ? await this.calls.push(call) : call;
    return JSON.parse(done.result!) as unknown;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // After the calls made before it.
    void (this.calls.last ?? Promise.resolve()).then(() =>
      this.host.post(this.generation, { t: 'dispose', vm: this.vm }),
    );
  }
}
