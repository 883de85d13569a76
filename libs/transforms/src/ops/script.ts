import {
  shouldInterruptAfterDeadline,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
} from 'quickjs-emscripten-core';
import { TransformError, TransformErrorCode } from '../errors';
import type { TransformRecord } from '../expression';
import type { TransformLimits } from '../limits';
import { describeVmError as describe, forgetQuickJS, getQuickJS, vmLimitHit } from '../quickjs';

/**
 * The `script` op: user JavaScript in QuickJS compiled to WebAssembly. The VM has only the
 * language's own built-ins: no require, process, fetch, timers or any host object; records go in and
 * come out as JSON text, a batch per call (one VM round trip per batch, not per record). Its
 * runtime has a memory limit and a stack limit, and an interrupt handler stops a batch that runs
 * past the time limit. A VM that failed is disposed; the transform fails with it.
 */
export class ScriptSandbox {
  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly vm: QuickJSContext,
    private readonly run: QuickJSHandle,
    private readonly limits: TransformLimits,
  ) {}
  private disposed = false;

  static async create(source: string, limits: TransformLimits): Promise<ScriptSandbox> {
    const quickjs = await getQuickJS();
    const runtime = quickjs.newRuntime();
    runtime.setMemoryLimit(limits.scriptMemoryBytes);
    runtime.setMaxStackSize(limits.scriptStackBytes);
    runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + limits.scriptTimeoutMs));
    const vm = runtime.newContext();
    // The user's code in its own function scope, so it cannot replace the batch loop.
    const program = `(function () {
      ${source}
      ;if (typeof transform !== 'function') throw new Error('the script must define function transform(record)');
      const parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray;
      return function (text) {
        const input = parse(text), out = [];
        for (let i = 0; i < input.length; i++) {
          const v = transform(input[i]);
          if (v === null || v === undefined) continue;
          if (isArray(v)) { for (const x of v) if (x !== null && x !== undefined) out.push(x); }
          else out.push(v);
        }
        return stringify(out);
      };
    })()`;
    const result = vm.evalCode(program, 'transform.js');
    if (result.error) {
      const message = describe(vm.dump(result.error));
      result.error.dispose();
      vm.dispose();
      runtime.dispose();
      throw new TransformError(TransformErrorCode.badExpression, `script: ${message}`);
    }
    return new ScriptSandbox(runtime, vm, result.value, limits);
  }

  /** The records the script returns for a batch (each input may give none, one or several). */
  transformBatch(records: TransformRecord[], first = 1): TransformRecord[] {
    if (this.disposed) throw new TransformError(TransformErrorCode.scriptFailed, 'script: the sandbox was stopped');
    this.runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + this.limits.scriptTimeoutMs));
    const arg = this.vm.newString(JSON.stringify(records));
    let result: ReturnType<QuickJSContext['callFunction']>;
    try {
      result = this.vm.callFunction(this.run, this.vm.undefined, arg);
    } catch (err) {
      // The host's own stack ran out inside the WebAssembly (deep recursion past QuickJS's check):
      // this VM and the module it lives in are not trusted again; the next sandbox loads a fresh one.
      this.disposed = true;
      forgetQuickJS();
      throw new TransformError(
        TransformErrorCode.scriptMemory,
        `script: records ${first}-${first + records.length - 1} went past the sandbox's stack: ${(err as Error).message}`,
      );
    }
    arg.dispose();
    if (result.error) {
      const dumped = this.vm.dump(result.error);
      result.error.dispose();
      const message = describe(dumped);
      this.dispose();
      const where = `records ${first}-${first + records.length - 1}`;
      const hit = vmLimitHit(message);
      if (hit === 'time')
        throw new TransformError(
          TransformErrorCode.scriptTimeout,
          `script: ${where} ran longer than ${this.limits.scriptTimeoutMs} ms; it was stopped`,
        );
      if (hit === 'stack')
        throw new TransformError(
          TransformErrorCode.scriptMemory,
          `script: ${where} went past the sandbox's stack limit (${this.limits.scriptStackBytes} bytes): ${message}`,
        );
      if (hit === 'memory')
        throw new TransformError(
          TransformErrorCode.scriptMemory,
          `script: ${where} went past the sandbox's memory limit (${this.limits.scriptMemoryBytes} bytes): ${message}`,
        );
      throw new TransformError(TransformErrorCode.scriptFailed, `script: ${where}: ${message}`);
    }
    const text = this.vm.getString(result.value);
    result.value.dispose();
    const out = JSON.parse(text) as unknown[];
    for (let i = 0; i < out.length; i++) {
      const r = out[i];
      if (typeof r !== 'object' || r === null || Array.isArray(r))
        throw new TransformError(
          TransformErrorCode.scriptFailed,
          `script: transform returned ${JSON.stringify(r)?.slice(0, 60)} for records ${first}-${first + records.length - 1}; return an object, an array of objects, or null`,
        );
    }
    return out as TransformRecord[];
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.run.dispose();
      this.vm.dispose();
      this.runtime.dispose();
    } catch {
      // A VM stopped mid-allocation may not free cleanly; its memory goes with the WebAssembly instance.
    }
  }
}
