// The worker thread of one sandbox (started by sandbox.ts; a process bundle builds it as
// dist/vm-worker.js, see tsup.process.ts): its QuickJS VMs run here, so a slow built-in holds this thread, never the host's, and the host can terminate it at
// the deadline. HTTP is proxied to the host, which owns the egress guard and the credentials: nothing
// secret is ever in this thread.
import { parentPort, workerData } from 'node:worker_threads';
import { getQuickJS } from '@vansales/transforms/quickjs';
import type { HostHttp, SandboxHttpResponse } from './egress/host-http';
import { WorkerCallChannel, type CallEnd } from './call-channel';
import { SandboxError, SandboxErrorCode } from './errors';
import { LoadedVm } from './vm';
import type { FromVmWorker, ToVmWorker, VmWorkerData } from './worker-protocol';

const port = parentPort!;
const { limits, channel } = workerData as VmWorkerData;
const vms = new Map<number, LoadedVm>();
/** Work in flight on the event loop (messages being handled, calls awaiting the host): the call channel does not sleep meanwhile. */
let working = 0;
const requests = new Map<number, { resolve: (r: SandboxHttpResponse) => void; reject: (e: Error) => void }>();
let nextRequest = 0;

const send = (message: FromVmWorker) => port.postMessage(message);

/** `ctx.http` of call `id`: the request goes to the host, which runs it through the guard and answers. */
function proxiedHttp(id: number): HostHttp {
  return (request, signal) =>
    new Promise<SandboxHttpResponse>((resolve, reject) => {
      const req = ++nextRequest;
      requests.set(req, { resolve, reject });
      signal.addEventListener('abort', () => requests.delete(req) && reject(new Error('the request was aborted')), {
        once: true,
      });
      send({ t: 'http', id, req, request });
    });
}

function failure(err: unknown): CallEnd {
  if (err instanceof SandboxError) return { ok: false, code: err.code, message: err.message };
  return { ok: false, code: SandboxErrorCode.operationFailed, message: String((err as Error)?.message) };
}

/**
 * One call of a loaded bundle (`run`, by postMessage or the call channel): its end at once when the
 * operation finished synchronously (no HTTP awaited: the channel's fast path), else a promise of it.
 */
function runLoaded(id: number, vmId: number, operation: string, input: string): CallEnd | Promise<CallEnd> {
  const vm = vms.get(vmId);
  try {
    if (!vm)
      throw new SandboxError(SandboxErrorCode.resources, 'the bundle is no longer loaded; load the bundle again');
    const result = vm.runTextNow(operation, input, proxiedHttp(id));
    if (typeof result === 'string') return { ok: true, result };
    return inFlight(result.then((text): CallEnd => ({ ok: true, result: text }), failure));
  } catch (err) {
    return failure(err);
  }
}

/** A call that came by postMessage: its end goes back the same way. */
async function portCall(id: number, run: () => CallEnd | Promise<CallEnd>): Promise<void> {
  send({ t: 'done', id, ...(await run()) });
}

async function handle(message: ToVmWorker): Promise<void> {
  switch (message.t) {
    case 'http': {
      const waiting = requests.get(message.req);
      requests.delete(message.req);
      if (!waiting) return;
      if (message.ok) waiting.resolve(message.response);
      else waiting.reject(Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
      return;
    }
    case 'ping':
      send({ t: 'pong', n: message.n });
      return;
    case 'dispose':
      vms.get(message.vm)?.dispose();
      vms.delete(message.vm);
      return;
    case 'load':
      try {
        const vm = await LoadedVm.load(message.bundle, limits);
        vms.set(message.id, vm);
        send({ t: 'done', id: message.id, ok: true, operations: [...vm.operations] });
      } catch (err) {
        send({ t: 'done', id: message.id, ...failure(err) });
      }
      return;
    case 'run':
      return portCall(message.id, () => runLoaded(message.id, message.vm, message.operation, message.input));
    case 'once':
      return portCall(message.id, async () => {
        let vm: LoadedVm | undefined;
        try {
          vm = await LoadedVm.load(message.bundle, limits);
          return { ok: true, result: await vm.runText(message.operation, message.input, proxiedHttp(message.id)) };
        } catch (err) {
          return failure(err);
        } finally {
          vm?.dispose();
        }
      });
  }
}

/** Counts `work` as in flight until it settles; when nothing is left, the call channel goes back to its wait loop. */
function inFlight<T>(work: Promise<T>): Promise<T> {
  working++;
  return work.finally(() => {
    if (--working === 0) callChannel?.wake();
  });
}

// Warm calls of loaded bundles: the shared-memory call channel (call-channel.ts); a result too big for it goes back by port.
const callChannel =
  channel &&
  new WorkerCallChannel(
    channel,
    (request) => runLoaded(request.id, request.vm, request.operation, request.input),
    (id, end) => send({ t: 'done', id, ...end }),
    { busy: () => working > 0 },
  );
port.on('message', (message: ToVmWorker) => {
  callChannel?.received();
  void inFlight(handle(message));
});
// Ready once QuickJS is loaded: the host starts a call's deadline from here, not from the thread's start.
// The channel starts after it: its wait loop holds the thread, which loading QuickJS needs.
void getQuickJS().then(() => {
  send({ t: 'ready' });
  callChannel?.start();
});
