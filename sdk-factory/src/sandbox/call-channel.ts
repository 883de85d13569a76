import type { SandboxErrorCode } from './errors';

/**
 * The warm-call channel between the sandbox's host and its worker thread: one call at a time in a
 * SharedArrayBuffer, signalled with Atomics, instead of two MessagePort messages (each structured-
 * cloned and queued on the port). It carries `run` calls of loaded bundles whose input fits;
 * everything else (loads, fresh runs, HTTP, pings, a result too big for the buffer or not well-formed
 * UTF-16, a call while another is on the channel) goes by postMessage as before. The deadline and
 * termination are the host's as for any call: the channel only changes how a call and its end travel.
 *
 * Both ends wait with Atomics.waitAsync, so neither thread is held: the host keeps serving, and the
 * worker keeps taking its messages (HTTP answers, pings, loads). Holding a thread in Atomics.wait, or
 * spinning, was measured slower on the 2-core shared machine (bench/README.md, sandbox): a thread that
 * spins takes the core the other needs, and a synchronous wait's wake-up was no faster.
 *
 * Layout: Int32 words [request seq, response seq, call id, vm, operation bytes, input bytes,
 * response kind, response bytes], then the payload (UTF-8): the operation and the input for a request,
 * the result (or `{code, message}`) for a response, written over the request once the worker read it.
 */
const REQUEST_SEQ = 0;
const RESPONSE_SEQ = 1;
const CALL_ID = 2;
const VM = 3;
const OPERATION_BYTES = 4;
const INPUT_BYTES = 5;
const RESPONSE_KIND = 6;
const RESPONSE_BYTES = 7;
const HEADER_BYTES = 8 * 4;

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

/** The host's end: `call` returns false when the channel cannot take the call (then it goes by postMessage). */
export class HostCallChannel {
  readonly buffer = new SharedArrayBuffer(HEADER_BYTES + CHANNEL_PAYLOAD_BYTES);
  private readonly words: Int32Array;
  private readonly bytes: Buffer;
  private busy = false;
  private closed = false;

  constructor() {
    ({ words: this.words, bytes: this.bytes } = views(this.buffer));
  }

  /** Sends a call; `answer` gets its end (from a task of the host's event loop, which stays free meanwhile). */
  call(id: number, vm: number, operation: string, input: string, answer: (a: ChannelAnswer) => void): boolean {
    if (this.busy || this.closed || !fits(input, Buffer.byteLength(operation))) return false;
    this.busy = true;
    const opBytes = this.bytes.write(operation, 0);
    const inputBytes = this.bytes.write(input, opBytes);
    const w = this.words;
    w[CALL_ID] = id;
    w[VM] = vm;
    w[OPERATION_BYTES] = opBytes;
    w[INPUT_BYTES] = inputBytes;
    const seq = (Atomics.load(w, REQUEST_SEQ) + 1) | 0;
    // The response word still holds the previous call's seq: the end of this one is a change of it.
    const before = Atomics.load(w, RESPONSE_SEQ);
    Atomics.store(w, REQUEST_SEQ, seq);
    Atomics.notify(w, REQUEST_SEQ);
    const waiting = waitAsync(w, RESPONSE_SEQ, before);
    const end = () => {
      if (this.closed) return;
      if (Atomics.load(w, RESPONSE_SEQ) === before) {
        // Woken without an answer (by close, or spuriously): wait again.
        const again = waitAsync(w, RESPONSE_SEQ, before);
        if (again.async) void again.value.then(end);
        else end();
        return;
      }
      answer(this.read());
    };
    if (waiting.async) void waiting.value.then(end);
    else end();
    return true;
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

/**
 * The worker's end: serves calls one at a time with `handle`, whose answer is written back (or, too big
 * for the buffer, handed to `byPort` to send by postMessage).
 */
export class WorkerCallChannel {
  private readonly words: Int32Array;
  private readonly bytes: Buffer;
  private seen: number;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly handle: (request: ChannelRequest) => Promise<CallEnd>,
    private readonly byPort: (id: number, end: CallEnd) => void,
  ) {
    ({ words: this.words, bytes: this.bytes } = views(buffer));
    this.seen = Atomics.load(this.words, REQUEST_SEQ);
  }

  start(): void {
    this.waitOnLoop();
  }

  /** Waits for the next call without holding the thread (its messages keep flowing). */
  private waitOnLoop(): void {
    const waiting = waitAsync(this.words, REQUEST_SEQ, this.seen);
    if (waiting.async) void waiting.value.then(() => this.next());
    else this.next();
  }

  private next(): void {
    const seq = Atomics.load(this.words, REQUEST_SEQ);
    if (seq === this.seen) return this.waitOnLoop();
    this.seen = seq;
    const w = this.words;
    const opBytes = w[OPERATION_BYTES]!;
    const request: ChannelRequest = {
      id: w[CALL_ID]!,
      vm: w[VM]!,
      operation: this.bytes.toString('utf8', 0, opBytes),
      input: this.bytes.toString('utf8', opBytes, opBytes + w[INPUT_BYTES]!),
    };
    void this.handle(request).then((end) => {
      this.respond(seq, request.id, end);
      this.waitOnLoop();
    });
  }

  private respond(seq: number, id: number, end: CallEnd): void {
    const w = this.words;
    const text = end.ok ? end.result : JSON.stringify({ code: end.code, message: end.message });
    if (!fits(text, 0)) {
      // Sent first: the host, told the call went by port, finds the answer in its queue.
      this.byPort(id, end);
      w[RESPONSE_KIND] = BY_PORT;
      w[RESPONSE_BYTES] = 0;
    } else {
      w[RESPONSE_BYTES] = this.bytes.write(text, 0);
      w[RESPONSE_KIND] = end.ok ? RESULT : FAILURE;
    }
    Atomics.store(w, RESPONSE_SEQ, seq);
    Atomics.notify(w, RESPONSE_SEQ);
  }
}
