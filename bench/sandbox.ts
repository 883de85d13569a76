/**
 * The operation sandbox (sdk-factory/src/sandbox) beside bare quickjs-emscripten, in one run (no
 * services): the warm call overhead (a loaded bundle's operation called again; the peer: one
 * callFunction of a loaded function with a JSON string in and out), a fresh context (a whole
 * runOperation of a one-line bundle; the peer: new runtime + context + eval + dispose), and loading
 * one operation's bundle (the hand-written ~12 KB representative bundle; the peer: evalCode of the
 * same source in a fresh context), plus one host HTTP round trip through the promise bridge (a
 * stub HostHttp: the bridge's cost, not the network's). The sandbox runs its VMs in a worker thread; the
 * warm call is also measured with the same VM on the calling thread, to show what crossing costs, and
 * with the sandbox's shared-memory call channel off (every call by postMessage; on by default), to show
 * what the channel saves.
 * Medians and p95 in microseconds.
 *
 *   node --import tsx sandbox.ts [--iterations 2000]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInThreadSandbox, createSandbox, type HostHttp } from '@vansales/sdk-factory/sandbox';
import { getQuickJS } from '@vansales/transforms/quickjs';

import { cliOption, emit, round } from './common/json-lines';

const ITERATIONS = Number(cliOption('iterations') ?? 2_000);
if (!Number.isInteger(ITERATIONS) || ITERATIONS < 10 || ITERATIONS > 1_000_000)
  throw new Error('--iterations must be a whole number from 10 to 1000000');
const BUNDLE = readFileSync(
  join(__dirname, '..', 'sdk-factory', 'test', 'sandbox', 'fixtures', 'representative-bundle.js'),
  'utf8',
);
const INPUT = { customerId: 42, expand: 'orders', baseUrl: 'https://api.example.com/v2' };

/** Times `n` runs of fn (after a warm-up of n/10), in microseconds: median and p95. */
async function time(n: number, fn: () => unknown): Promise<{ median_us: number; p95_us: number }> {
  for (let i = 0; i < Math.max(5, n / 10); i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) * 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    median_us: round(samples[Math.floor(n / 2)]!),
    p95_us: round(samples[Math.floor(n * 0.95)]!),
  };
}

function report(
  figure: string,
  ours: { median_us: number; p95_us: number },
  bare: { median_us: number; p95_us: number },
  target_us: number,
) {
  emit({ figure, path: 'sandbox', ...ours, target_us, within_target: ours.median_us <= target_us });
  emit({ figure, path: 'bare-quickjs-emscripten', ...bare });
  emit({ figure, ratio_median: round(ours.median_us / bare.median_us) });
}

async function main(): Promise<void> {
  const quickjs = await getQuickJS();
  const sandbox = createSandbox();
  const noHttp: HostHttp = async () => {
    throw new Error('no HTTP in this figure');
  };
  const stubHttp: HostHttp = async () => ({
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"id":42,"name":"Ada","status":"active","tags":["a"]}',
  });

  // 1. Warm call: an operation of a loaded bundle, JSON in and out.
  // The same bundle (echo beside the 12 KB representative one) on every path of the warm call.
  const WARM_BUNDLE = `exports.echo = (input) => ({ id: input.id, ok: true });\n${BUNDLE}`;
  const loaded = await sandbox.load(WARM_BUNDLE);
  const warm = await time(ITERATIONS * 5, () => loaded.run('echo', { id: 1 }, noHttp));
  const runtime = quickjs.newRuntime();
  runtime.setMemoryLimit(32 * 1024 * 1024);
  const vm = runtime.newContext();
  const fn = vm.unwrapResult(
    vm.evalCode(`(function (t) { const i = JSON.parse(t); return JSON.stringify({ id: i.id, ok: true }); })`),
  );
  const bareWarm = await time(ITERATIONS * 5, () => {
    const arg = vm.newString('{"id":1}');
    const r = vm.unwrapResult(vm.callFunction(fn, vm.undefined, arg));
    vm.getString(r);
    r.dispose();
    arg.dispose();
  });
  report('warm_call', warm, bareWarm, 25);
  // The same warm call with the shared-memory call channel off (default on): what the channel saves.
  const portSandbox = createSandbox({}, { callChannel: false });
  const byPort = await portSandbox.load(WARM_BUNDLE);
  const warmByPort = await time(ITERATIONS * 5, () => byPort.run('echo', { id: 1 }, noHttp));
  byPort.dispose();
  await portSandbox.close();
  emit({ figure: 'warm_call', path: 'sandbox-postmessage (call channel off)', ...warmByPort });
  emit({ figure: 'warm_call', call_channel_saves_us: round(warmByPort.median_us - warm.median_us) });
  // The same VM on the calling thread (not used for operations: a slow built-in would hold the thread):
  // what crossing to the sandbox's worker thread costs per call.
  const inThread = await createInThreadSandbox().load(WARM_BUNDLE);
  const warmInThread = await time(ITERATIONS * 5, () => inThread.run('echo', { id: 1 }, noHttp));
  inThread.dispose();
  emit({ figure: 'warm_call', path: 'sandbox-in-thread (not used)', ...warmInThread });
  emit({ figure: 'warm_call', worker_thread_cost_us: round(warm.median_us - warmInThread.median_us) });

  // 1b. A warm call that makes one host HTTP request (the deferred-promise bridge) and checks the answer.
  const http = await time(ITERATIONS, () => loaded.run('getCustomer', INPUT, stubHttp));
  emit({ figure: 'warm_call_one_http', path: 'sandbox', ...http });
  loaded.dispose();
  fn.dispose();
  vm.dispose();
  runtime.dispose();

  // 2. Fresh context: a whole runOperation of a one-line bundle (new runtime and context, disposed after).
  const fresh = await time(ITERATIONS, () =>
    sandbox.runOperation({ bundle: 'exports.op = (i) => i;', operation: 'op', input: { a: 1 }, http: noHttp }),
  );
  const bareFresh = await time(ITERATIONS, () => {
    const rt = quickjs.newRuntime();
    rt.setMemoryLimit(32 * 1024 * 1024);
    const ctx = rt.newContext();
    ctx.unwrapResult(ctx.evalCode('1')).dispose();
    ctx.dispose();
    rt.dispose();
  });
  report('fresh_context', fresh, bareFresh, 1000);

  // 3. Loading one operation's bundle (~12 KB): parse, run its top level, list its operations.
  const load = await time(Math.max(10, ITERATIONS / 4), async () => (await sandbox.load(BUNDLE)).dispose());
  const bareLoad = await time(Math.max(10, ITERATIONS / 4), () => {
    const rt = quickjs.newRuntime();
    rt.setMemoryLimit(32 * 1024 * 1024);
    const ctx = rt.newContext();
    ctx.unwrapResult(ctx.evalCode(`(function (module, exports) {${BUNDLE}\n})({ exports: {} }, {})`)).dispose();
    ctx.dispose();
    rt.dispose();
  });
  emit({ figure: 'bundle_bytes', bytes: Buffer.byteLength(BUNDLE) });
  report('bundle_load', load, bareLoad, 3000);

  // 4. One operation end to end in a fresh context: load the bundle, one HTTP round trip, result.
  const whole = await time(Math.max(10, ITERATIONS / 4), () =>
    sandbox.runOperation({ bundle: BUNDLE, operation: 'getCustomer', input: INPUT, http: stubHttp }),
  );
  emit({ figure: 'run_operation_fresh_with_http', path: 'sandbox', ...whole });
  await sandbox.close();
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
