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

/** One call of a loaded bundle (`run`, by postMessage or the call channel). */
async function runLoaded(id: number, vmId: number, operation: string, input: string): Promise<CallEnd> {
  const vm = vms.get(vmId);
  try {
    if (!vm)
      throw new SandboxError(SandboxErrorCode.resources, 'the bundle is no longer loaded; load the bundle again');
    return { ok: true, result: await vm.runText(operation, input, proxiedHttp(id)) };
  } catch (err) {
    return failure(err);
  }
}

/** A call that came by postMessage: its end goes back the same way. */
async function portCall(id: number, run: () => Promise<CallEnd>): Promise<void> {
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

port.on('message', (message: ToVmWorker) => void handle(message));
// Warm calls of loaded bundles: the shared-memory channel (call-channel.ts); a result too big for it goes back by port.
new WorkerCallChannel(
  channel,
  (request) => runLoaded(request.id, request.vm, request.operation, request.input),
  (id, end) => send({ t: 'done', id, ...end }),
).start();
// Ready once QuickJS is loaded: the host starts a call's deadline from here, not from the thread's start.
void getQuickJS().then(() => send({ t: 'ready' }));
