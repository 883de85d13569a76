// The worker thread of one sandbox (started by sandbox.ts; a process bundle builds it as
// dist/vm-worker.js, see tsup.process.ts): its QuickJS VMs run here, so a slow built-in holds this thread, never the host's, and the host can terminate it at
// the deadline. HTTP is proxied to the host, which owns the egress guard and the credentials: nothing
// secret is ever in this thread.
import { parentPort, workerData } from 'node:worker_threads';
import { getQuickJS } from '@vansales/transforms/quickjs';
import type { HostHttp, SandboxHttpResponse } from './egress/host-http';
import { SandboxError, SandboxErrorCode } from './errors';
import { LoadedVm } from './vm';
import type { FromVmWorker, ToVmWorker, VmWorkerData } from './worker-protocol';

const port = parentPort!;
const { limits } = workerData as VmWorkerData;
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

function failure(id: number, err: unknown): FromVmWorker {
  if (err instanceof SandboxError) return { t: 'done', id, ok: false, code: err.code, message: err.message };
  return { t: 'done', id, ok: false, code: SandboxErrorCode.operationFailed, message: String((err as Error)?.message) };
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
        send(failure(message.id, err));
      }
      return;
    case 'run': {
      const vm = vms.get(message.vm);
      try {
        if (!vm)
          throw new SandboxError(SandboxErrorCode.resources, 'the bundle is no longer loaded; load the bundle again');
        const result = await vm.runText(message.operation, message.input, proxiedHttp(message.id));
        send({ t: 'done', id: message.id, ok: true, result });
      } catch (err) {
        send(failure(message.id, err));
      }
      return;
    }
    case 'once': {
      let vm: LoadedVm | undefined;
      try {
        vm = await LoadedVm.load(message.bundle, limits);
        const result = await vm.runText(message.operation, message.input, proxiedHttp(message.id));
        send({ t: 'done', id: message.id, ok: true, result });
      } catch (err) {
        send(failure(message.id, err));
      } finally {
        vm?.dispose();
      }
      return;
    }
  }
}

port.on('message', (message: ToVmWorker) => void handle(message));
// Ready once QuickJS is loaded: the host starts a call's deadline from here, not from the thread's start.
void getQuickJS().then(() => send({ t: 'ready' }));
