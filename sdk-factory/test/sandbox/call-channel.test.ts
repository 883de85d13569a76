import {
  CHANNEL_PAYLOAD_BYTES,
  HostCallChannel,
  WorkerCallChannel,
  type CallEnd,
  type ChannelAnswer,
  type ChannelRequest,
} from '../../src/sandbox/call-channel';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorkerEntry } from '@vansales/transforms/worker-entry';
import { createSandbox, type HostHttp } from '../../src/sandbox';
import { outcome } from './support';

/**
 * Both ends of one channel in this thread: the worker end off its synchronous wait loop (each end
 * waits with Atomics.waitAsync, so one thread serves both).
 */
function pair(handle: (r: ChannelRequest) => CallEnd | Promise<CallEnd>) {
  const host = new HostCallChannel();
  const byPort: { id: number; end: CallEnd }[] = [];
  new WorkerCallChannel(host.buffer, handle, (id, end) => byPort.push({ id, end }), { sync: false }).start();
  const call = (id: number, vm: number, operation: string, input: string) =>
    new Promise<ChannelAnswer | 'refused'>((resolve) => {
      const sent = host.call(id, vm, operation, input, resolve);
      if (sent === false) resolve('refused');
      else if (sent !== true) resolve(sent);
    });
  return { host, byPort, call };
}

describe('the sandbox call channel (shared memory between host and worker thread)', () => {
  it('carries a call and its end, results and failures, in UTF-8 both ways', async () => {
    const { call } = pair((r) =>
      r.operation === 'fail'
        ? { ok: false, code: 'SANDBOX_OPERATION_FAILED', message: `no ${r.input}` }
        : { ok: true, result: JSON.stringify({ id: r.id, vm: r.vm, op: r.operation, input: JSON.parse(r.input) }) },
    );
    expect(await call(7, 3, 'größe', '{"name":"Zoë ☃ 😀"}')).toEqual({
      ok: true,
      result: JSON.stringify({ id: 7, vm: 3, op: 'größe', input: { name: 'Zoë ☃ 😀' } }),
    });
    expect(await call(8, 3, 'fail', 'é')).toEqual({ ok: false, code: 'SANDBOX_OPERATION_FAILED', message: 'no é' });
  });

  it('refuses what it cannot carry unchanged (the caller sends it by postMessage), and a second call while busy', async () => {
    const { host, call } = pair(() => ({ ok: true, result: '1' }));
    const noop = () => undefined;
    expect(host.call(1, 1, 'op', 'x'.repeat(CHANNEL_PAYLOAD_BYTES), noop)).toBe(false);
    // Three bytes a character in UTF-8: a third of the room in characters does not fit.
    expect(host.call(1, 1, 'op', '€'.repeat(CHANNEL_PAYLOAD_BYTES / 3), noop)).toBe(false);
    expect(host.call(1, 1, 'op', '"\ud800"', noop)).toBe(false);
    const first = call(2, 1, 'op', '{}');
    expect(host.call(3, 1, 'op', '{}', noop)).toBe(false);
    expect(await first).toEqual({ ok: true, result: '1' });
    expect(await call(4, 1, 'op', '{}')).toEqual({ ok: true, result: '1' });
  });

  it('hands a result too big for the buffer to postMessage and says so', async () => {
    const big = JSON.stringify('y'.repeat(CHANNEL_PAYLOAD_BYTES));
    const { byPort, call } = pair(async () => ({ ok: true, result: big }));
    expect(await call(5, 1, 'op', '{}')).toEqual({ byPort: true });
    expect(byPort).toEqual([{ id: 5, end: { ok: true, result: big } }]);
  });

  it('sends the end of a call that ends later (one awaiting ctx.http) by postMessage, and frees the channel at once', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { byPort, call } = pair(async () => {
      await held;
      return { ok: true, result: '"later"' };
    });
    expect(await call(6, 1, 'op', '{}')).toEqual({ byPort: true });
    // Free while the first call still runs.
    expect(await call(7, 1, 'op', '{}')).toEqual({ byPort: true });
    expect(byPort).toEqual([]);
    release();
    while (byPort.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(byPort).toEqual([
      { id: 6, end: { ok: true, result: '"later"' } },
      { id: 7, end: { ok: true, result: '"later"' } },
    ]);
  });

  it('after close, a call waiting for its end is let go without an answer', async () => {
    // No worker end: the call waits for an end that never comes.
    const host = new HostCallChannel();
    const answers: ChannelAnswer[] = [];
    expect(host.call(1, 1, 'op', '{}', (a) => answers.push(a))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    host.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answers).toEqual([]);
    expect(host.call(2, 1, 'op', '{}', (a) => answers.push(a))).toBe(false);
  });
});

/** Sends one call on the host's end: its end when it came synchronously, 'later' when it comes from a task. */
function send(host: HostCallChannel, id: number, operation: string, input: string, answers: ChannelAnswer[]) {
  const sent = host.call(id, 1, operation, input, (a) => answers.push(a));
  if (sent === false) throw new Error('the channel refused the call');
  return sent === true ? 'later' : sent;
}

describe('the call channel with its worker end in a thread of its own (the wait loop)', () => {
  // A synchronous wait far above any wake-up, so that the machine's load cannot make an end late.
  const host = new HostCallChannel({ syncWaitMs: 10_000, spinUs: 0 });
  let worker: Worker;
  const fromWorker: unknown[] = [];
  const nextFromWorker = () => new Promise<unknown>((resolve) => worker.once('message', (m) => resolve(m)));

  beforeAll(async () => {
    worker = startWorkerEntry(join(__dirname, 'fixtures'), 'channel-worker', { workerData: { buffer: host.buffer } });
    worker.on('message', (m) => fromWorker.push(m));
    await nextFromWorker();
  });
  afterAll(async () => {
    host.close();
    await worker.terminate();
  });

  /** Calls until one ends synchronously (the worker is in its wait loop from then on); the others awaited. */
  async function untilSynchronous(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const answers: ChannelAnswer[] = [];
      if (send(host, 1000 + i, 'warm', '{}', answers) !== 'later') return;
      while (answers.length === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('no call ended synchronously');
  }

  it('ends warm calls on the calling task, with no event-loop turn on either side', async () => {
    await untilSynchronous();
    const answers: ChannelAnswer[] = [];
    for (let i = 0; i < 20; i++)
      expect(send(host, i, 'op', `{"n":${i}}`, answers)).toEqual({ ok: true, result: JSON.stringify(`op:{"n":${i}}`) });
    expect(answers).toEqual([]);
  });

  it("lets the host go at once when a call ends on the worker's event loop (as one awaiting ctx.http); its end comes by port", async () => {
    await untilSynchronous();
    const answers: ChannelAnswer[] = [];
    const ended = nextFromWorker();
    // Not waited for until its end (the bound is 10 s; the call takes 20 ms on the worker's loop).
    expect(send(host, 1, 'later', '{}', answers)).toEqual({ byPort: true });
    expect(await ended).toEqual({ byPort: 1, end: { ok: true, result: '"later"' } });
    expect(answers).toEqual([]);
    // Back in its wait loop once that call ended.
    await untilSynchronous();
  });

  it('reads a MessagePort message posted while it waits in its loop, then waits there again', async () => {
    await untilSynchronous();
    for (const n of [1, 2, 3]) {
      const echoed = nextFromWorker();
      worker.postMessage({ ping: n });
      host.posted();
      expect(await echoed).toEqual({ echo: { ping: n } });
    }
    await untilSynchronous();
    expect(fromWorker.filter((m) => (m as { byPort?: number }).byPort !== undefined)).toEqual([
      { byPort: 1, end: { ok: true, result: '"later"' } },
    ]);
  });
});

describe('warm calls through the channel and past it', () => {
  const noHttp: HostHttp = async () => {
    throw new Error('no HTTP here');
  };

  it('keeps each bundle in order and right whichever way a call goes (channel, postMessage, too big for the channel)', async () => {
    const sandbox = createSandbox({ timeoutMs: 20_000 }, { callChannel: true });
    const source = `let calls = 0;
      exports.echo = (input) => ({ calls: ++calls, input });
      exports.big = (input) => 'z'.repeat(input.n);`;
    const [a, b] = await Promise.all([sandbox.load(source), sandbox.load(source)]);
    try {
      const bigInput = { s: 'ü'.repeat(CHANNEL_PAYLOAD_BYTES) };
      // Both bundles at once: one call takes the channel, the others go by postMessage.
      const results = await Promise.all([
        a.run('echo', { n: 1 }, noHttp),
        b.run('echo', { n: 1 }, noHttp),
        a.run('echo', bigInput, noHttp),
        b.run('echo', { n: 2 }, noHttp),
        a.run('echo', { n: 3 }, noHttp),
      ]);
      expect(results).toEqual([
        { calls: 1, input: { n: 1 } },
        { calls: 1, input: { n: 1 } },
        { calls: 2, input: bigInput },
        { calls: 2, input: { n: 2 } },
        { calls: 3, input: { n: 3 } },
      ]);
      expect(await a.run('big', { n: CHANNEL_PAYLOAD_BYTES * 2 }, noHttp)).toBe('z'.repeat(CHANNEL_PAYLOAD_BYTES * 2));
      expect(await a.run('echo', { n: 4 }, noHttp)).toEqual({ calls: 4, input: { n: 4 } });
      expect(await outcome(a.run('nope', {}, noHttp))).toMatch(/^SANDBOX_UNKNOWN_OPERATION/);
    } finally {
      a.dispose();
      b.dispose();
      await sandbox.close();
    }
  });

  it('stops a warm call held by a slow built-in while the host keeps running; the bundle loaded again works', async () => {
    const sandbox = createSandbox({ timeoutMs: 1000 });
    const source = `exports.slow = () => { let n = 0; for (;;) n += 'x'.repeat(1 << 21).length; };
      exports.add = (input) => input.n + 1;`;
    const loaded = await sandbox.load(source);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      expect(await loaded.run('add', { n: 1 }, noHttp)).toBe(2);
      expect(await outcome(loaded.run('slow', {}, noHttp))).toMatch(/^SANDBOX_(TIMEOUT|RESOURCES): /);
      // The host waited for the stuck call asynchronously: its timers kept running.
      expect(ticks).toBeGreaterThan(0);
      const again = await sandbox.load(source);
      expect(await again.run('add', { n: 2 }, noHttp)).toBe(3);
    } finally {
      clearInterval(ticker);
      await sandbox.close();
    }
  });

  it("a warm call that makes requests gets each answered by the host's HostHttp", async () => {
    const sandbox = createSandbox({ timeoutMs: 20_000 }, { callChannel: true });
    const seen: string[] = [];
    const http: HostHttp = async (request) => {
      seen.push(request.url);
      return { status: 200, headers: {}, body: JSON.stringify({ url: request.url }) };
    };
    const loaded = await sandbox.load(
      `exports.two = async (input, ctx) => {
        const a = await ctx.http({ method: 'GET', url: input.base + '/a' });
        const b = await ctx.http({ method: 'GET', url: input.base + '/b' });
        return [JSON.parse(a.body).url, JSON.parse(b.body).url];
      };`,
    );
    try {
      for (let i = 0; i < 3; i++)
        expect(await loaded.run('two', { base: `https://api.example.com/${i}` }, http)).toEqual([
          `https://api.example.com/${i}/a`,
          `https://api.example.com/${i}/b`,
        ]);
      expect(seen).toHaveLength(6);
    } finally {
      loaded.dispose();
      await sandbox.close();
    }
  });
});
