import type { SandboxErrorCode } from './errors';

/**
 * The warm-call channel between the sandbox's host and its worker thread: one call at a time in a
 * SharedArrayBuffer, signalled with Atomics, instead of two MessagePort messages. It carries `run`
 * calls of loaded bundles whose input fits; everything else (loads, fresh runs, HTTP, pings, a result
 * too big for the buffer or not well-formed UTF-16, a call while another is on the channel) goes by
 * postMessage. The deadline and termination are the host's as for any call.
 *
 * The worker serves warm calls without an event-loop turn or a promise: idle, it sleeps in Atomics.wait
 * on the doorbell word, runs a call synchronously when the host rings, writes the end and notifies. The
 * host, having rung a worker it saw in its wait loop, polls the response word for up to `spinUs` (25 us)
 * and takes an end that came meanwhile on the calling task (no event-loop turn on either side); else it
 * waits with Atomics.waitAsync (an event-loop task brings the end). It does not sleep synchronously by
 * default: on this VM a thread that sleeps for more than a few microseconds takes ~18 us to wake (bare
 * ping-pong with 8 us of work: 26-28 us sleeping, 10 us polling), and an Atomics.wait of the host was
 * slower than its event loop (warm call 34-37 us vs 17-22 us). After a call the worker polls the
 * doorbell up to `spinUs` (150 us) for the next one, since warm calls come in runs: a host that awaits
 * between calls rings again 10-30 us later, after a 10 us poll had put the worker to sleep, and on an
 * idle VM the wake-up made the call ~65 us (bimodal: 21-70 us medians over runs; with 150 us, 10-21 us,
 * and the same ~19 us as before with another process on the machine). Both polls are the
 * Poller's: kept while they pay, probed together on a few calls in every 128 when they do not. The
 * worker leaves its wait loop for its event loop:
 * - a call that awaits the host (ctx.http): the worker answers "by port" at once (the host stops
 *   polling and frees the channel) and its end follows by postMessage, with the call's HTTP; the worker
 *   stays on its event loop until its work in flight has ended;
 * - a MessagePort message to the worker (HTTP answers, pings, loads, disposals) is counted in the
 *   `POSTED` word and rings the doorbell: the worker leaves its wait loop for its event loop until it
 *   has taken as many messages as were posted (a count, not a flag, so none is ever left unread);
 * - a worker idle for `idleMs` (1 s) goes back to its event loop (waitAsync on the doorbell), so a
 *   stray task (or a bug in this protocol) waits at most that long.
 *
 * Layout: Int32 words [request seq, response seq, call id, vm, operation bytes, input bytes, response
 * kind, response bytes, doorbell, messages posted, worker state], then the payload (UTF-8): the
 * operation and the input for a request, the result (or `{code, message}`) for a response, written
 * over the request once the worker read it.
 */
const REQUEST_SEQ = 0;
const RESPONSE_SEQ = 1;
const CALL_ID = 2;
const VM = 3;
const OPERATION_BYTES = 4;
const INPUT_BYTES = 5;
const RESPONSE_KIND = 6;
const RESPONSE_BYTES = 7;
/** Changed by every event the worker must look at (a call, a message posted, the worker's own work ending). */
const DOORBELL = 8;
/** MessagePort messages the host has posted to the worker. */
const POSTED = 9;
/** IN_LOOP while the worker serves calls in its wait loop (the host then polls for a call's end). */
const WORKER_STATE = 10;
const HEADER_BYTES = 12 * 4;

const ON_EVENT_LOOP = 0;
const IN_LOOP = 1;

/** Seqs run 1..MAX_SEQ. */
const MAX_SEQ = 0x3fff_ffff;

/** A response's kind: the result, a failure, or "sent by postMessage" (a result larger than the buffer). */
const RESULT = 1;
const FAILURE = 2;
const BY_PORT = 3;

/** Payload room: a warm call's input and result are a request's parameters and a page of records. */
export const CHANNEL_PAYLOAD_BYTES = 256 * 1024;

/** A call's end: its result (JSON text) or its failure. */
export type CallEnd = { ok: true; result: string } | { ok: false; code: SandboxErrorCode; message: string };
/** What the host learns from the channel: the end, or that it comes by postMessage. */
export type ChannelAnswer = CallEnd | { byPort: true };

/** Atomics.waitAsync (Node 16 and later; typed from ES2024 on, past this repository's lib). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
  }
).waitAsync.bind(Atomics);

/**
 * Whether `text` goes through the buffer after `used` bytes unchanged: it fits (a character is at most
 * three bytes of UTF-8: measured only when that bound does not settle it), and it has no lone surrogate
 * (UTF-8 would replace it; a MessagePort keeps it).
 */
function fits(text: string, used: number): boolean {
  const room = CHANNEL_PAYLOAD_BYTES - used;
  if (text.length * 3 > room && Buffer.byteLength(text) > room) return false;
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function views(buffer: SharedArrayBuffer): { words: Int32Array; bytes: Buffer } {
  return { words: new Int32Array(buffer, 0, HEADER_BYTES / 4), bytes: Buffer.from(buffer, HEADER_BYTES) };
}

/** The worker may have something to look at: wakes its Atomics.wait or its waitAsync. */
function ring(words: Int32Array): void {
  Atomics.add(words, DOORBELL, 1);
  Atomics.notify(words, DOORBELL);
}

export interface HostChannelOptions {
  /**
   * How long the host polls the response word for a call's end before waiting on its event loop.
   * Default 25 us: a warm call takes 10-17 us when the worker has a core of its own; a longer poll only
   * delays the event-loop wait (at 50 us, polls that ended just in time when the worker preempted the
   * poller on their shared core kept whole runs at ~60 us a call).
   */
  spinUs?: number;
  /**
   * How long, polling included, the host's thread may wait synchronously (Atomics.wait) for the end.
   * Default 0 (measured slower than the event loop here); tests set it high to make the fast path certain.
   */
  syncWaitMs?: number;
}

/** Of every PROBE_EVERY calls, the first PROBE_CALLS poll even when polling did not pay (see Poller). */
const PROBE_EVERY = 128;
const PROBE_CALLS = 3;

/** Atomics.pause (ES2025): a spin-wait hint to the CPU; absent on older runtimes. */
const pause = (Atomics as { pause?: () => void }).pause?.bind(Atomics) ?? (() => undefined);

/** Polls `words[index]` while it holds `value`, for up to `ms`: true if it changed. */
function spinWhile(words: Int32Array, index: number, value: number, ms: number): boolean {
  if (ms <= 0) return Atomics.load(words, index) !== value;
  const until = performance.now() + ms;
  for (let k = 1; Atomics.load(words, index) === value; k++) {
    pause();
    // The clock is read every 32 polls (a read costs more than a poll).
    if ((k & 31) === 0 && performance.now() >= until) return false;
  }
  return true;
}

/**
 * Whether a thread polls for the other one, call by call. Polling pays only when both threads are
 * awake on cores of their own: a thread that sleeps is slow to wake, so the other's poll runs out,
 * and a poll on a core the other thread needs holds it off. So a thread polls while its last poll
 * paid, and otherwise only on the first PROBE_CALLS of every PROBE_EVERY calls, the same calls on both
 * sides (by the call's seq), so that both try together: one side probing alone finds the other asleep.
 */
class Poller {
  private paying = false;

  /** Polls `words[index]` while it holds `value`, for up to `ms` when this call polls: true if it changed. */
  poll(words: Int32Array, index: number, value: number, ms: number, seq: number): boolean {
    if (!this.paying && seq % PROBE_EVERY >= PROBE_CALLS) return Atomics.load(words, index) !== value;
    this.paying = spinWhile(words, index, value, ms);
    return this.paying;
  }
}

/** The host's end. */
export class HostCallChannel {
  readonly buffer = new SharedArrayBuffer(HEADER_BYTES + CHANNEL_PAYLOAD_BYTES);
  private readonly words: Int32Array;
  private readonly bytes: Buffer;
  private busy = false;
  private closed = false;

  private readonly syncWaitMs: number;
  private readonly spinMs: number;
  private readonly poller = new Poller();

  constructor(options: HostChannelOptions = {}) {
    ({ words: this.words, bytes: this.bytes } = views(this.buffer));
    this.syncWaitMs = options.syncWaitMs ?? 0;
    this.spinMs = (options.spinUs ?? 25) / 1000;
  }

  /**
   * Sends a call. Returns false when the channel cannot take it (send it by postMessage), its end when
   * that came while the host polled (or waited synchronously), else true: `answer` gets the end later, from a task of the host's
   * event loop (which stays free meanwhile).
   */
  call(
    id: number,
    vm: number,
    operation: string,
    input: string,
    answer: (a: ChannelAnswer) => void,
  ): ChannelAnswer | boolean {
    if (this.busy || this.closed || !fits(input, Buffer.byteLength(operation))) return false;
    this.busy = true;
    const opBytes = this.bytes.write(operation, 0);
    const inputBytes = this.bytes.write(input, opBytes);
    const w = this.words;
    w[CALL_ID] = id;
    w[VM] = vm;
    w[OPERATION_BYTES] = opBytes;
    w[INPUT_BYTES] = inputBytes;
    const seq = (Atomics.load(w, REQUEST_SEQ) % MAX_SEQ) + 1;
    // The response word still holds the previous call's seq: the end of this one is a change of it.
    const before = Atomics.load(w, RESPONSE_SEQ);
    // Only a worker in its wait loop answers fast; one on its event loop is not waited for here.
    const inLoop = Atomics.load(w, WORKER_STATE) === IN_LOOP;
    Atomics.store(w, REQUEST_SEQ, seq);
    ring(w);
    if (inLoop) this.waitBriefly(before, seq);
    if (Atomics.load(w, RESPONSE_SEQ) === seq) return this.read();
    this.awaitEnd(seq, answer);
    return true;
  }

  /** Until the response word leaves `before` (the end, or "by port"): polls `spinMs`, then sleeps up to `syncWaitMs` in all. */
  private waitBriefly(before: number, seq: number): void {
    const start = performance.now();
    if (this.poller.poll(this.words, RESPONSE_SEQ, before, this.spinMs, seq)) return;
    const waited = performance.now() - start;
    if (waited < this.syncWaitMs) Atomics.wait(this.words, RESPONSE_SEQ, before, this.syncWaitMs - waited);
  }

  /** A MessagePort message was just posted to the worker: counted, and the worker's wait loop woken to read it. */
  posted(): void {
    Atomics.add(this.words, POSTED, 1);
    // A worker on its event loop takes the message there (a ring would only wake its waitAsync for
    // nothing); one entering its wait loop after this reads POSTED first (both are sequentially consistent).
    if (Atomics.load(this.words, WORKER_STATE) === IN_LOOP) ring(this.words);
  }

  /**
   * Waits, without holding the thread, until the response word says call `seq` ended. `answer` is
   * never called on the task of `call` (whose caller registers the call once `call` returns true).
   */
  private awaitEnd(seq: number, answer: (a: ChannelAnswer) => void): void {
    const current = Atomics.load(this.words, RESPONSE_SEQ);
    const waiting = current === seq ? undefined : waitAsync(this.words, RESPONSE_SEQ, current);
    const again = () => {
      if (this.closed) return;
      if (Atomics.load(this.words, RESPONSE_SEQ) === seq) answer(this.read());
      else this.awaitEnd(seq, answer);
    };
    if (waiting?.async) void waiting.value.then(again);
    else queueMicrotask(again);
  }

  private read(): ChannelAnswer {
    const w = this.words;
    const kind = w[RESPONSE_KIND];
    const text = this.bytes.toString('utf8', 0, w[RESPONSE_BYTES]);
    this.busy = false;
    if (kind === BY_PORT) return { byPort: true };
    if (kind === RESULT) return { ok: true, result: text };
    const failure = JSON.parse(text) as { code: SandboxErrorCode; message: string };
    return { ok: false, code: failure.code, message: failure.message };
  }

  /** The generation ended: an asynchronous wait in progress is woken and ignored. */
  close(): void {
    this.closed = true;
    Atomics.notify(this.words, RESPONSE_SEQ);
  }
}

export interface ChannelRequest {
  id: number;
  vm: number;
  operation: string;
  input: string;
}

export interface WorkerChannelOptions {
  /**
   * Whether the idle worker waits in Atomics.wait (the fast path; default true). False keeps it on its
   * event loop with waitAsync (a test serving both ends on one thread).
   */
  sync?: boolean;
  /** Whether the worker has work in flight on its event loop (it then does not sleep in Atomics.wait). */
  busy?: () => boolean;
  /** How long an idle worker sleeps in Atomics.wait before it goes back to its event loop. Default 1,000 ms. */
  idleMs?: number;
  /** How long the worker polls the doorbell for the next call after one (pollForNext). Default 150 us. */
  spinUs?: number;
}

/**
 * The worker's end: serves calls one at a time with `handle`, whose end is written back (or, too big
 * for the buffer, handed to `byPort` to send by postMessage). The worker calls `received()` for each
 * MessagePort message it takes and `wake()` when its work in flight has ended.
 */
export class WorkerCallChannel {
  private readonly words: Int32Array;
  private readonly bytes: Buffer;
  private readonly sync: boolean;
  private readonly busy: () => boolean;
  private readonly idleMs: number;
  private readonly spinMs: number;
  private readonly poller = new Poller();
  private seen: number;
  private messages = 0;
  /** A waitAsync on the doorbell is outstanding (one at a time). */
  private waiting = false;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly handle: (request: ChannelRequest) => CallEnd | Promise<CallEnd>,
    private readonly byPort: (id: number, end: CallEnd) => void,
    options: WorkerChannelOptions = {},
  ) {
    ({ words: this.words, bytes: this.bytes } = views(buffer));
    this.seen = Atomics.load(this.words, REQUEST_SEQ);
    this.sync = options.sync ?? true;
    this.busy = options.busy ?? (() => false);
    this.idleMs = options.idleMs ?? 1000;
    this.spinMs = (options.spinUs ?? 150) / 1000;
  }

  start(): void {
    this.resume();
  }

  /** One MessagePort message taken (the host counted it when it posted it). */
  received(): void {
    this.messages = (this.messages + 1) | 0;
  }

  /** The worker's work in flight ended: back to the wait loop when nothing else is due. */
  wake(): void {
    ring(this.words);
  }

  /** On a task of the event loop: the synchronous wait loop if the worker may sleep, else an asynchronous wait. */
  private resume(): void {
    if (this.sync && !this.busy() && this.allTaken()) this.syncLoop();
    else this.asyncWait();
  }

  private allTaken(): boolean {
    return Atomics.load(this.words, POSTED) === this.messages;
  }

  /** Serves calls on this task, without an event-loop turn, until a message or work in flight needs the loop. */
  private syncLoop(): void {
    const w = this.words;
    Atomics.store(w, WORKER_STATE, IN_LOOP);
    for (;;) {
      const bell = Atomics.load(w, DOORBELL);
      if (!this.allTaken()) break;
      if (this.serveNext()) {
        if (this.busy()) break;
        this.pollForNext(bell);
        continue;
      }
      const woke = Atomics.wait(w, DOORBELL, bell, this.idleMs);
      if (woke === 'timed-out') break;
    }
    Atomics.store(w, WORKER_STATE, ON_EVENT_LOOP);
    this.asyncWait();
  }

  /**
   * After a call, polls the doorbell briefly for the next one before sleeping (see Poller): warm calls
   * come in runs, and a thread asleep for more than a few microseconds takes ~18 us to wake here.
   */
  private pollForNext(bell: number): void {
    this.poller.poll(this.words, DOORBELL, bell, this.spinMs, this.seen + 1);
  }

  /** Waits for the doorbell without holding the thread (its messages and promise jobs keep flowing). */
  private asyncWait(): void {
    if (this.waiting) return;
    const bell = Atomics.load(this.words, DOORBELL);
    if (this.serveNext()) return this.resume();
    this.waiting = true;
    const waiting = waitAsync(this.words, DOORBELL, bell);
    const next = () => {
      this.waiting = false;
      this.resume();
    };
    if (waiting.async) void waiting.value.then(next);
    else setImmediate(next);
  }

  /** Serves the call the host sent, if there is a new one: true if there was. */
  private serveNext(): boolean {
    const w = this.words;
    const seq = Atomics.load(w, REQUEST_SEQ);
    if (seq === this.seen) return false;
    this.seen = seq;
    const opBytes = w[OPERATION_BYTES]!;
    const request: ChannelRequest = {
      id: w[CALL_ID]!,
      vm: w[VM]!,
      operation: this.bytes.toString('utf8', 0, opBytes),
      input: this.bytes.toString('utf8', opBytes, opBytes + w[INPUT_BYTES]!),
    };
    let end: CallEnd | Promise<CallEnd>;
    try {
      end = this.handle(request);
    } catch (err) {
      end = { ok: false, code: 'SANDBOX_OPERATION_FAILED', message: String((err as Error)?.message) };
    }
    if (!(end instanceof Promise)) {
      this.respond(seq, request.id, end);
      return true;
    }
    // It awaits the host (ctx.http): the channel is done with it, and its end goes by postMessage, as
    // the HTTP requests and answers of the call do (the end through the channel, one more kind of wake-up
    // on each side, made an HTTP-making warm call 40-60 us slower than by postMessage).
    this.respondByPort(seq);
    void end.then((e) => this.byPort(request.id, e));
    return true;
  }

  private respond(seq: number, id: number, end: CallEnd): void {
    const w = this.words;
    const text = end.ok ? end.result : JSON.stringify({ code: end.code, message: end.message });
    if (!fits(text, 0)) {
      this.byPort(id, end);
      return this.respondByPort(seq);
    }
    w[RESPONSE_BYTES] = this.bytes.write(text, 0);
    w[RESPONSE_KIND] = end.ok ? RESULT : FAILURE;
    Atomics.store(w, RESPONSE_SEQ, seq);
    Atomics.notify(w, RESPONSE_SEQ);
  }

  /**
   * Call `seq`'s end comes (or came) by postMessage: the host registers the call when it learns this,
   * on the task of its `call` or a later one, and takes the end from its port after that.
   */
  private respondByPort(seq: number): void {
    const w = this.words;
    w[RESPONSE_KIND] = BY_PORT;
    w[RESPONSE_BYTES] = 0;
    Atomics.store(w, RESPONSE_SEQ, seq);
    Atomics.notify(w, RESPONSE_SEQ);
  }
}
