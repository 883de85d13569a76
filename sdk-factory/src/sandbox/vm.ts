import { describeVmError, forgetQuickJS, getQuickJS, vmLimitHit } from '@vansales/transforms/quickjs';
import type {
  QuickJSContext,
  QuickJSDeferredPromise,
  QuickJSHandle,
  QuickJSRuntime,
  VmCallResult,
} from 'quickjs-emscripten-core';
import { CallQueue } from './call-queue';
import { SandboxError, SandboxErrorCode } from './errors';
import { SandboxHttpRequest, type HostHttp } from './egress/host-http';
import { parseSandboxLimits, type SandboxLimits, type SandboxLimitsInput } from './limits';
import type { LoadedBundle, Sandbox } from './sandbox';

/**
 * The one program the sandbox evaluates before any bundle code: it takes the host's HTTP function
 * and returns the runner. What it captures (JSON, the host function) is captured before the bundle
 * runs; a bundle that tampers with built-ins afterwards only harms its own VM, since everything
 * crossing to the host is a string the host parses itself.
 */
const RUNNER = `(function (hostHttp, done, fail) {
  'use strict';
  const parse = JSON.parse, stringify = JSON.stringify, own = Object.prototype.hasOwnProperty;
  const http = function (request) { return hostHttp(stringify(request)).then(parse); };
  const ctx = Object.freeze({ http: http });
  const result = function (v) {
    const text = stringify(v === undefined ? null : v);
    if (typeof text !== 'string') throw new TypeError('the operation returned a value JSON cannot hold');
    return text;
  };
  return function (exported, key, inputText) {
    if (exported === null || typeof exported !== 'object' || !own.call(exported, key) || typeof exported[key] !== 'function')
      throw new TypeError('the bundle exports no operation ' + stringify(key));
    const op = exported[key];
    // Called synchronously (not from a promise job): a limit hit in the synchronous part unwinds
    // straight to the host, instead of through promise reactions that allocate on a full heap.
    const first = op(parse(inputText), ctx);
    // A plain value (not a thenable) finishes here, without promise jobs (the warm synchronous path):
    // its JSON text is the runner's return value (no host-function call); a promise's comes through done.
    if (first === null || (typeof first !== 'object' && typeof first !== 'function') || typeof first.then !== 'function')
      return result(first);
    Promise.resolve(first).then(function (v) { done(result(v)); }).then(undefined, function (e) { fail(e); });
  };
})`;

/**
 * The sandbox on the calling thread: what runs in the worker thread (vm-worker.ts), and the warm-call
 * figure the benchmark compares the worker with. NOT for operations: QuickJS counts operations, not
 * time, so a slow built-in (a long `'x'.repeat`, a sparse `Array.fill`) holds the calling thread until
 * its interrupt check comes round, 15-55 s. `createSandbox` runs it in a worker the host can terminate.
 */
export function createInThreadSandbox(limits: SandboxLimitsInput = {}): Sandbox {
  const parsed = parseSandboxLimits(limits);
  return {
    limits: parsed,
    async runOperation(request) {
      const loaded = await LoadedVm.load(request.bundle, parsed);
      try {
        return await loaded.run(request.operation, request.input, request.http);
      } finally {
        loaded.dispose();
      }
    },
    load: (bundle) => LoadedVm.load(bundle, parsed),
    close: async () => undefined,
  };
}

/**
 * The state of one call: its HTTP host, requests made, deferred promises open, and its end (the
 * runner reports the result or the error through host functions, so no VM handle outlives the call).
 */
interface Call {
  done: (text: string) => void;
  /** Set once the call awaits the host: its end settles the waiting promise. */
  settle?: { resolve: (text: string) => void; reject: (err: SandboxError) => void };
  /** The result, when the runner reported it (synchronously, for an operation that awaits no HTTP). */
  text?: string;
  http: HostHttp;
  /** Made on the first request (a call without HTTP does not pay for it). */
  abort?: AbortController;
  requests: number;
  inFlight: number;
  waiting: (() => void)[];
  open: Set<QuickJSDeferredPromise>;
  failed?: SandboxError;
  onFailure: (err: SandboxError) => void;
}

export class LoadedVm implements LoadedBundle {
  private disposed = false;
  private broken = false;
  private call: Call | undefined;
  private readonly calls = new CallQueue();
  private deadline = 0;

  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly vm: QuickJSContext,
    private readonly limits: SandboxLimits,
    private runner: QuickJSHandle | undefined,
    private exported: QuickJSHandle | undefined,
    readonly operations: readonly string[],
  ) {}

  static async load(bundle: string, limits: SandboxLimits): Promise<LoadedVm> {
    if (typeof bundle !== 'string' || bundle.length === 0)
      throw new SandboxError(SandboxErrorCode.badBundle, 'the operation bundle is empty');
    const quickjs = await getQuickJS();
    const runtime = quickjs.newRuntime();
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(limits.stackBytes);
    const vm = runtime.newContext();
    const self = new LoadedVm(runtime, vm, limits, undefined, undefined, []);
    runtime.setInterruptHandler(() => Date.now() > self.deadline);
    self.deadline = Date.now() + limits.timeoutMs;
    try {
      const host = vm.newFunction('http', (text) => self.onHttp(text));
      const done = vm.newFunction('done', (text) => {
        if (vm.typeof(text) === 'string') self.call?.done(vm.getString(text));
      });
      const fail = vm.newFunction('fail', (error) => {
        const message = describeVmError(vm.dump(error)).slice(0, 2000);
        self.call?.onFailure(self.limitError(message, SandboxErrorCode.operationFailed, 'run'));
      });
      const runnerFactory = self.unwrap(vm.evalCode(RUNNER, 'sandbox-runner.js'), SandboxErrorCode.badBundle, 'load');
      self.runner = self.unwrap(
        vm.callFunction(runnerFactory, vm.undefined, host, done, fail),
        SandboxErrorCode.badBundle,
        'load',
      );
      runnerFactory.dispose();
      host.dispose();
      done.dispose();
      fail.dispose();
      // The bundle as a function of (module, exports) on its first line, so its own lines keep their numbers.
      const wrapper = self.unwrap(
        vm.evalCode(`(function (module, exports) {${bundle}\n})`, 'operation-bundle.js'),
        SandboxErrorCode.badBundle,
        'load',
      );
      const module = vm.newObject();
      const exports = vm.newObject();
      vm.setProp(module, 'exports', exports);
      const loaded = vm.callFunction(wrapper, vm.undefined, module, exports);
      wrapper.dispose();
      exports.dispose();
      self.exported = vm.getProp(module, 'exports');
      module.dispose();
      self.unwrap(loaded, SandboxErrorCode.badBundle, 'load').dispose();
      const keys = self.unwrap(
        vm.evalCode(
          `(function (e) { return JSON.stringify(e !== null && typeof e === 'object' ? Object.keys(e).filter(function (k) { return typeof e[k] === 'function'; }) : []); })`,
        ),
        SandboxErrorCode.badBundle,
        'load',
      );
      const listed = self.unwrap(
        vm.callFunction(keys, vm.undefined, self.exported),
        SandboxErrorCode.badBundle,
        'load',
      );
      keys.dispose();
      const names = vm.typeof(listed) === 'string' ? (JSON.parse(vm.getString(listed)) as unknown) : [];
      listed.dispose();
      (self as { operations: readonly string[] }).operations = Array.isArray(names) ? names.map(String) : [];
      return self;
    } catch (err) {
      // Anything but a SandboxError here came from the WebAssembly itself (the host's stack ran out).
      const failure = err instanceof SandboxError ? err : self.hostStackOverflow(err);
      self.dispose();
      throw failure;
    }
  }

  async run(operation: string, input: unknown, http: HostHttp): Promise<unknown> {
    const text = this.runTextNow(operation, inputJson(input), http);
    return JSON.parse(typeof text === 'string' ? text : await text) as unknown;
  }

  /** One call with its input and result as JSON text (the worker thread's form: no parse and stringify again). */
  runText(operation: string, inputText: string, http: HostHttp): Promise<string> {
    // One call at a time: a call's state (its deadline, its HTTP) is the VM's.
    const previous = this.calls.last;
    return this.calls.push(
      previous
        ? previous.then(() => this.start(operation, inputText, http))
        : new Promise<string>((resolve) => resolve(this.start(operation, inputText, http))),
    );
  }

  /**
   * As runText, but a call that finishes synchronously (awaits no HTTP, no call of this VM before it
   * in flight) returns its result text, or throws its SandboxError, on the calling task: the worker's
   * warm-call fast path, without a promise or an event-loop turn.
   */
  runTextNow(operation: string, inputText: string, http: HostHttp): string | Promise<string> {
    if (this.calls.last) return this.runText(operation, inputText, http);
    const started = this.start(operation, inputText, http);
    return typeof started === 'string' ? started : this.calls.push(started);
  }

  /** Starts a call: its result if it ended synchronously, else a promise of it; throws when it failed synchronously. */
  private start(operation: string, inputText: string, http: HostHttp): string | Promise<string> {
    if (this.disposed || this.broken)
      throw new SandboxError(
        SandboxErrorCode.resources,
        'the sandbox was stopped by an earlier failure; load the bundle again',
      );
    if (!this.operations.includes(operation))
      throw new SandboxError(
        SandboxErrorCode.unknownOperation,
        `the bundle has no operation ${JSON.stringify(operation)} (it has ${this.operations.length ? this.operations.join(', ') : 'none'})`,
      );
    const vm = this.vm;
    const call: Call = {
      done: (text) => {
        call.text ??= text;
        call.settle?.resolve(text);
      },
      http,
      requests: 0,
      inFlight: 0,
      waiting: [],
      open: new Set(),
      onFailure: (err) => {
        call.failed ??= err;
        call.settle?.reject(call.failed);
      },
    };
    this.call = call;
    this.deadline = Date.now() + this.limits.timeoutMs;
    let later = false;
    try {
      const key = vm.newString(operation);
      const text = vm.newString(inputText);
      let started: VmCallResult<QuickJSHandle>;
      try {
        started = vm.callFunction(this.runner!, vm.undefined, this.exported!, key, text);
      } catch (err) {
        throw this.hostStackOverflow(err);
      } finally {
        key.dispose();
        text.dispose();
      }
      const returned = this.unwrap(started, SandboxErrorCode.operationFailed, 'run');
      if (vm.typeof(returned) === 'string') call.done(vm.getString(returned));
      returned.dispose();
      // No promise job queued (a plain value returned): nothing to run.
      if (this.runtime.hasPendingJob()) this.pump();
      // Settled already (no HTTP awaited): no timer, no promise. Otherwise wait for the end or the deadline.
      if (call.failed) throw call.failed;
      if (call.text !== undefined) return this.checkedResult(call.text, operation);
      later = true;
      return this.finishLater(call, operation);
    } catch (thrown) {
      throw this.failedCall(call, thrown, operation);
    } finally {
      if (!later) this.endCall(call);
    }
  }

  /** The rest of a call that awaits the host: its end, or the deadline (HTTP waits included). */
  private async finishLater(call: Call, operation: string): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const ended = new Promise<string>((resolve, reject) => (call.settle = { resolve, reject }));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new SandboxError(
                SandboxErrorCode.timeout,
                `operation ${operation} ran longer than ${this.limits.timeoutMs} ms (HTTP waits included); it was stopped`,
              ),
            ),
          Math.max(0, this.deadline - Date.now()),
        );
      });
      return this.checkedResult(await Promise.race([ended, timeout]), operation);
    } catch (thrown) {
      throw this.failedCall(call, thrown, operation);
    } finally {
      clearTimeout(timer);
      this.endCall(call);
    }
  }

  private checkedResult(resultText: string, operation: string): string {
    if (resultText.length > this.limits.maxResultChars)
      throw new SandboxError(
        SandboxErrorCode.badResult,
        `operation ${operation} returned ${resultText.length} characters of JSON, more than the limit of ${this.limits.maxResultChars}`,
      );
    return resultText;
  }

  /** The error a failed call ends with; the first limit the call hit names it (a request flood interrupted later is a flood). */
  private failedCall(call: Call, thrown: unknown, operation: string): SandboxError {
    const err = call.failed ?? thrown;
    // A call that failed leaves its VM in an unknown state (a half-run job, a full heap): not reused.
    if (err instanceof SandboxError && err.code !== SandboxErrorCode.operationFailed) this.broken = true;
    if (err instanceof SandboxError) return err;
    return new SandboxError(SandboxErrorCode.operationFailed, `operation ${operation}: ${(err as Error).message}`);
  }

  /** A call ended: its requests are aborted, its deferred promises freed, its state dropped. */
  private endCall(call: Call): void {
    call.abort?.abort();
    call.waiting.length = 0;
    for (const deferred of call.open) deferred.dispose();
    call.open.clear();
    if (this.call === call) this.call = undefined;
  }

  /** The host function behind `ctx.http`: validates the request, counts it, and returns a promise handle. */
  private onHttp(textHandle: QuickJSHandle): QuickJSHandle {
    const vm = this.vm;
    const call = this.call;
    const deferred = vm.newPromise();
    const reject = (message: string) => {
      const error = vm.newError({ name: 'HttpError', message });
      deferred.reject(error);
      error.dispose();
    };
    if (!call) {
      reject('http is only available while an operation runs');
      return deferred.handle;
    }
    if (++call.requests > this.limits.maxHttpRequests) {
      const message = `the operation made more than ${this.limits.maxHttpRequests} HTTP requests`;
      call.onFailure(new SandboxError(SandboxErrorCode.httpLimit, message));
      reject(message);
      return deferred.handle;
    }
    let request: SandboxHttpRequest;
    try {
      if (vm.typeof(textHandle) !== 'string') throw new Error('the request is not JSON');
      const parsed = SandboxHttpRequest.safeParse(JSON.parse(vm.getString(textHandle)));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new Error(`request ${issue.path.join('.') || '(request)'}: ${issue.message}`);
      }
      request = parsed.data;
    } catch (err) {
      reject(`bad HTTP request: ${(err as Error).message}`);
      return deferred.handle;
    }
    call.open.add(deferred);
    const settle = (fn: () => void) => {
      if (this.call !== call || this.disposed) return;
      call.open.delete(deferred);
      fn();
      this.pump();
    };
    const start = () => {
      call.inFlight++;
      call
        .http(request, (call.abort ??= new AbortController()).signal)
        .then(
          (response) =>
            settle(() => {
              const handle = vm.newString(JSON.stringify(response));
              deferred.resolve(handle);
              handle.dispose();
            }),
          (err: unknown) => settle(() => reject(safeMessage(err))),
        )
        .finally(() => {
          call.inFlight--;
          call.waiting.shift()?.();
        });
    };
    if (call.inFlight < this.limits.maxConcurrentHttp) start();
    else call.waiting.push(start);
    return deferred.handle;
  }

  /** Runs the VM's pending jobs (promise reactions); an interrupt or a full heap there fails the call. */
  private pump(): void {
    if (this.disposed || !this.call) return;
    let result: ReturnType<QuickJSRuntime['executePendingJobs']>;
    try {
      result = this.runtime.executePendingJobs();
    } catch (err) {
      this.call.onFailure(this.hostStackOverflow(err));
      return;
    }
    if (result.error) {
      const ctx = result.error.context;
      const dumped = ctx.dump(result.error);
      result.error.dispose();
      this.call.onFailure(this.limitError(describeVmError(dumped), SandboxErrorCode.operationFailed, 'run'));
    }
  }

  private unwrap(
    result: VmCallResult<QuickJSHandle> | { error?: QuickJSHandle; value?: QuickJSHandle },
    code: SandboxErrorCode,
    phase: 'load' | 'run',
  ): QuickJSHandle {
    if (result.error) {
      const dumped = this.vm.dump(result.error);
      result.error.dispose();
      throw this.limitError(describeVmError(dumped), code, phase);
    }
    return result.value!;
  }

  private limitError(message: string, code: SandboxErrorCode, phase: 'load' | 'run'): SandboxError {
    const where = phase === 'load' ? 'loading the bundle' : 'the operation';
    // Past the deadline, a failure is the time limit, whatever reading the error gave (a getter interrupted).
    // An exception with no value (null) on a full heap: QuickJS could not even allocate the error.
    const hit =
      vmLimitHit(message) ??
      (Date.now() > this.deadline ? 'time' : undefined) ??
      (/^(null|undefined)$/.test(message) && this.nearMemoryLimit() ? 'memory' : undefined);
    switch (hit) {
      case 'time':
        return new SandboxError(
          SandboxErrorCode.timeout,
          `${where} ran longer than ${this.limits.timeoutMs} ms; it was stopped`,
        );
      case 'stack':
        return new SandboxError(
          SandboxErrorCode.resources,
          `${where} went past the sandbox's stack limit (${this.limits.stackBytes} bytes): ${message}`,
        );
      case 'memory':
        return new SandboxError(
          SandboxErrorCode.resources,
          `${where} went past the sandbox's memory limit (${this.limits.memoryBytes} bytes)`,
        );
      default:
        return new SandboxError(code, phase === 'load' ? `the bundle failed to load: ${message}` : message);
    }
  }

  /** Whether the runtime's allocations are within 64 KiB of its limit (QuickJS's own memory report). */
  private nearMemoryLimit(): boolean {
    const line = /memory allocated\s+\d+\s+(\d+)/.exec(this.runtime.dumpMemoryUsage());
    return line !== null && Number(line[1]) >= this.limits.memoryBytes - 64 * 1024;
  }

  /** The host's own stack ran out inside the WebAssembly: this VM and its module are not trusted again. */
  private hostStackOverflow(err: unknown): SandboxError {
    this.broken = true;
    forgetQuickJS();
    return new SandboxError(
      SandboxErrorCode.resources,
      `the operation went past the sandbox's stack: ${(err as Error)?.message ?? String(err)}`,
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.runner?.dispose();
      this.exported?.dispose();
      this.vm.dispose();
      this.runtime.dispose();
    } catch {
      // A VM stopped mid-allocation may not free cleanly (QuickJS aborts on objects still listed): the
      // module that aborted is not used again; its memory goes with the WebAssembly instance.
      forgetQuickJS();
    }
  }
}

/** What the VM learns of a failed request: the message only (DataflowError messages name no header or credential). */
function safeMessage(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : 'the request failed';
  return typeof e?.code === 'string' ? `${e.code}: ${message}` : message;
}

/** An operation's input as JSON text, or a SandboxError saying why it cannot be. */
export function inputJson(input: unknown): string {
  let text: unknown;
  try {
    text = JSON.stringify(input === undefined ? null : input);
  } catch (err) {
    throw new SandboxError(SandboxErrorCode.badInput, `the operation input is not JSON: ${(err as Error).message}`);
  }
  if (typeof text !== 'string')
    throw new SandboxError(SandboxErrorCode.badInput, `the operation input is not JSON (it is a ${typeof input})`);
  return text;
}
