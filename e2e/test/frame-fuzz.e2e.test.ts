import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import WebSocket from 'ws';
import { AgentFrame, CloseCode, MAX_FRAME_BYTES, MAX_RESULT_BYTES, parseFrame } from '@vansales/protocol';
import { type OperationContext } from '@vansales/connector-agent';
import { sakilaDatabase, sakilaReader, startPlatform, until, type Platform } from './support/harness';

/**
 * Protocol frames fuzzed on an authenticated agent socket (after hello and welcome): random bytes,
 * and mutations of frames recorded from real sessions (hello, results plain and gzipped, progress,
 * failures). Each frame must get a protocol error or close the socket, never crash the gateway, and
 * a real agent connected beside the fuzzer must still complete a task afterwards.
 * Property-based (fast-check) with a fixed seed, so a failure replays; VSC_FRAME_FUZZ_RUNS and
 * VSC_FRAME_FUZZ_SEED run it longer or elsewhere.
 */
const RUNS = Number(process.env.VSC_FRAME_FUZZ_RUNS ?? 400);
const SEED = Number(process.env.VSC_FRAME_FUZZ_SEED ?? 20260903);
/**
 * WebSocket close codes that are an answer to a bad frame (RFC 6455 and the gateway's own range):
 * the gateway closes an agent that sends more bad frames (or pings) within a window than it allows.
 */
const ANSWER_CLOSE_CODES = new Set<number>([1002, 1003, 1007, 1008, 1009, 1011, CloseCode.tooManyProtocolErrors]);

type Json = Record<string, unknown>;

/** What the fuzzer sends: text (string or raw bytes, which may not be UTF-8) or a binary frame. */
interface Frame {
  kind: string;
  data: string | Buffer;
  binary: boolean;
}

/** An agent socket past authentication and welcome, counting what the gateway answers. */
class FuzzSocket {
  readonly taskIds: string[] = [];
  protocolErrors = 0;
  closed?: number;
  private readonly waiters = new Map<string, () => void>();
  private closeWaiters: (() => void)[] = [];

  private constructor(
    readonly ws: WebSocket,
    private readonly errorCodes: Map<string, number>,
  ) {
    ws.on('message', (data: Buffer) => {
      let frame: Json;
      try {
        frame = JSON.parse(data.toString('utf8')) as Json;
      } catch {
        throw new Error(`the gateway sent a frame that is not JSON: ${data.toString('utf8').slice(0, 200)}`);
      }
      if (frame.type === 'task') this.taskIds.push(String(frame.taskId));
      if (frame.type === 'protocol-error') {
        // The probe's own refusal is not an answer to the fuzzed frame.
        if (frame.code !== 'too-many-pings') this.protocolErrors += 1;
        errorCodes.set(String(frame.code), (errorCodes.get(String(frame.code)) ?? 0) + 1);
      }
      if (frame.type === 'pong') this.waiters.get(String(frame.nonce))?.();
      // Past its ping budget the gateway answers a ping with this error instead of a pong: the
      // probe's answer all the same (frames are answered in order, so it read past the fuzzed one).
      if (frame.type === 'protocol-error' && frame.code === 'too-many-pings')
        for (const w of this.waiters.values()) w();
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      this.closed = code;
      for (const w of this.closeWaiters) w();
    });
  }

  /**
   * Connects with the key (and a fresh proof of its key pair each time) and a hello, until welcomed
   * (a previous session of the key may still be closing).
   */
  static async open(
    url: string,
    headers: () => Promise<Record<string, string>>,
    hello: Json,
    errorCodes: Map<string, number>,
  ): Promise<FuzzSocket> {
    return until(
      'the fuzz socket to be welcomed',
      async () => {
        const ws = new WebSocket(url, { headers: await headers() });
        const socket = new FuzzSocket(ws, errorCodes);
        const welcomed = await new Promise<boolean>((resolve) => {
          ws.once('error', () => resolve(false));
          ws.once('close', () => resolve(false));
          ws.on('message', (d: Buffer) => {
            if ((JSON.parse(d.toString('utf8')) as Json).type === 'welcome') resolve(true);
          });
          ws.once('open', () => ws.send(JSON.stringify(hello)));
        });
        if (welcomed) return socket;
        ws.terminate();
        return undefined;
      },
      60_000,
    );
  }

  send(frame: Frame): void {
    if (this.closed === undefined && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(frame.data, { binary: frame.binary });
  }

  /** A ping after the frame: its pong proves the gateway read past the frame and still answers. */
  probe(nonce: string): Promise<'pong' | 'closed'> {
    if (this.closed !== undefined) return Promise.resolve('closed');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no pong and no close within 15 s (probe ${nonce})`)), 15_000);
      const done = (what: 'pong' | 'closed') => {
        clearTimeout(timer);
        this.waiters.delete(nonce);
        resolve(what);
      };
      this.waiters.set(nonce, () => done('pong'));
      this.closeWaiters.push(() => done('closed'));
      this.ws.send(JSON.stringify({ type: 'ping', nonce }));
    });
  }
}

/** Every path to a value inside a JSON value, parents first. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(p, ...pathsOf(v, p));
    }
  }
  return out;
}

interface Edit {
  at: number;
  op: 'delete' | 'set' | 'live-task' | 'other-type' | 'long-string';
  value: unknown;
}

const FRAME_TYPES = ['hello', 'result', 'failure', 'heartbeat', 'ping', 'pong', 'protocol-error', 'task', 'welcome'];

function applyEdits(template: Json, edits: Edit[], liveTaskIds: string[]): Json {
  const frame = structuredClone(template);
  for (const edit of edits) {
    const paths = pathsOf(frame);
    const path = paths[edit.at % Math.max(1, paths.length)] ?? ['type'];
    let parent = frame as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const key = path[path.length - 1]!;
    if (edit.op === 'delete') delete parent[key];
    else if (edit.op === 'set') parent[key] = edit.value;
    else if (edit.op === 'long-string') parent[key] = 'x'.repeat(10_000 + (edit.at % 100_000));
    else if (edit.op === 'other-type') frame.type = FRAME_TYPES[edit.at % FRAME_TYPES.length];
    else frame.taskId = liveTaskIds.length ? liveTaskIds[edit.at % liveTaskIds.length] : frame.taskId;
  }
  return frame;
}

describe('protocol frames fuzzed on an authenticated agent socket (fast-check, fixed seed, real services)', () => {
  let platform: Platform;
  let tenantId: string;
  let healthy: { id: string; apiKey: string };
  let fuzzKey: { id: string; apiKey: string };
  const templates: Json[] = [];
  const queryWorkflows: string[] = [];
  const newConnector = async (name: string) =>
    (await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name })).body;
  const query = (connectorId: string, sql: string, wait = true) =>
    platform.api<{ workflowId: string; result?: { rows: unknown[][] } }>('POST', `/v1/tenants/${tenantId}/queries`, {
      connectorId,
      database: 'sakila',
      sql,
      wait,
    });

  beforeAll(async () => {
    platform = await startPlatform();
    tenantId = `ff-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Frame fuzz' });
    healthy = await newConnector('healthy');
    await platform.startAgent({ apiKey: healthy.apiKey, databases: { sakila: sakilaDatabase(await sakilaReader()) } })
      .welcomed;
    // Frames of real sessions: a real agent's hello and results, and an agent (the agent's own
    // extension point, on the real socket) that reports progress, answers in gzip and fails.
    const recorder = await newConnector('recorder');
    const custom = platform.startCustomAgent(recorder.apiKey, {
      'sql.query': async (input: unknown, ctx: OperationContext) => {
        ctx.progress({ rowsDone: 10, after: { id: 10 } });
        if ((input as { sql: string }).sql === 'fail') throw new Error('recorded failure');
        const big = (input as { sql: string }).sql === 'big';
        return {
          columns: [{ name: 'n', type: 'text' }],
          rows: Array.from({ length: big ? 20_000 : 1 }, (_, i) => [`row ${i} ${'y'.repeat(big ? 20 : 1)}`]),
          rowCount: big ? 20_000 : 1,
          truncated: false,
        };
      },
    });
    await custom.welcomed;
    expect((await query(healthy.id, 'SELECT actor_id, first_name FROM actor LIMIT 3')).status).toBe(200);
    for (const sql of ['small', 'big', 'fail']) await query(recorder.id, sql);
    const seen = new Set<string>();
    for (const raw of platform.frames) {
      const frame = JSON.parse(raw) as Json;
      const kind = `${String(frame.type)}${frame.outputGzip ? '+gzip' : ''}`;
      if (seen.has(kind)) continue;
      seen.add(kind);
      templates.push(frame);
    }
    // The recording has every kind of frame the brief names.
    expect([...seen].sort()).toEqual(
      expect.arrayContaining(['failure', 'heartbeat', 'hello', 'result', 'result+gzip']),
    );
    fuzzKey = await newConnector('fuzzer');
  }, 300_000);

  afterAll(async () => {
    for (const id of queryWorkflows)
      await platform.temporal.workflow
        .getHandle(id)
        .terminate('frame fuzz done')
        .catch(() => undefined);
    await platform?.close();
  });

  it('answers every fuzzed frame with a protocol error or a close, and keeps serving the other agents', async () => {
    const errorCodes = new Map<string, number>();
    const closeCodes = new Map<number, number>();
    const kinds = new Map<string, number>();
    const hello = templates.find((t) => t.type === 'hello')!;
    const headers = () => platform.agentHeaders(fuzzKey.apiKey, 'fuzzer');
    let socket = await FuzzSocket.open(platform.gatewayWsUrl, headers, hello, errorCodes);
    let reconnects = 0;
    // Real tasks on the fuzzed socket, so mutated results, progress and failures can name a live one.
    for (let i = 0; i < 4; i++) queryWorkflows.push((await query(fuzzKey.id, `SELECT ${i}`, false)).body.workflowId);
    await until('tasks on the fuzzed socket', () => socket.taskIds.length >= 4 || undefined);
    const liveTaskIds = () => socket.taskIds;

    const bomb = gzipSync(Buffer.alloc(MAX_RESULT_BYTES + 1024)).toString('base64');
    const text = (kind: string, value: string): Frame => ({ kind, data: value, binary: false });
    const template = fc.constantFrom(...templates);
    const edits = fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom<Edit['op']>('delete', 'set', 'set', 'live-task', 'other-type', 'long-string'),
        value: fc.jsonValue({ maxDepth: 2 }),
      }),
      { minLength: 1, maxLength: 4 },
    );
    const frames: fc.Arbitrary<() => Frame> = fc.oneof(
      // Random bytes, as a binary frame and as text (mostly valid UTF-8, sometimes not).
      {
        weight: 2,
        arbitrary: fc
          .uint8Array({ maxLength: 4096 })
          .map((b) => () => ({ kind: 'random-binary', data: Buffer.from(b), binary: true })),
      },
      {
        weight: 2,
        arbitrary: fc.string({ unit: 'grapheme', maxLength: 2048 }).map((s) => () => text('random-text', s)),
      },
      {
        weight: 1,
        arbitrary: fc
          .uint8Array({ maxLength: 256 })
          .map((b) => () => ({ kind: 'random-bytes-as-text', data: Buffer.from(b), binary: false })),
      },
      // Recorded frames with their JSON edited: fields dropped, retyped, set to anything, a live task id.
      {
        weight: 6,
        arbitrary: fc.tuple(template, edits).map(
          ([t, e]) =>
            () =>
              text('json-mutation', JSON.stringify(applyEdits(t, e, liveTaskIds()))),
        ),
      },
      // Recorded frames with their bytes edited (ASCII, so the text stays UTF-8 and reaches the parser).
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            template,
            fc.array(
              fc.tuple(fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), fc.constantFrom('set', 'cut', 'insert')),
              { minLength: 1, maxLength: 6 },
            ),
          )
          .map(([t, byteEdits]) => () => {
            let s = JSON.stringify(t);
            for (const [at, byte, op] of byteEdits) {
              const i = at % (s.length + 1);
              const c = String.fromCharCode(byte);
              s =
                op === 'set'
                  ? s.slice(0, i) + c + s.slice(i + 1)
                  : op === 'cut'
                    ? s.slice(0, i)
                    : s.slice(0, i) + c + s.slice(i);
            }
            return text('byte-mutation', s);
          }),
      },
      // Compressed results for a live task: not base64, not gzip, truncated gzip, JSON that is not an output, a bomb.
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.nat(),
            fc.constantFrom('not-base64', 'random', 'truncated', 'gzip-json', 'bomb'),
            fc.uint8Array({ maxLength: 512 }),
            fc.jsonValue({ maxDepth: 2 }),
          )
          .map(([at, how, bytes, json]) => () => {
            const ids = liveTaskIds();
            const taskId = ids.length ? ids[at % ids.length]! : 'no-task';
            const gz = gzipSync(Buffer.from(JSON.stringify(json)));
            const outputGzip =
              how === 'not-base64'
                ? '%%%not base64%%%'
                : how === 'random'
                  ? Buffer.from(bytes).toString('base64')
                  : how === 'truncated'
                    ? gz.subarray(0, Math.max(1, at % gz.length)).toString('base64')
                    : how === 'gzip-json'
                      ? gz.toString('base64')
                      : bomb;
            return text(`gzip-${how}`, JSON.stringify({ type: 'result', taskId, outputGzip }));
          }),
      },
      // Past the frame limit (refused before parsing), rarely: each is a megabyte.
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(MAX_FRAME_BYTES + 1, MAX_FRAME_BYTES * 2 + 1)
          .map((n) => () => text(`oversize-${n}`, 'z'.repeat(n))),
      },
    );

    let sent = 0;
    let unanswered: string[] = [];
    await fc.assert(
      fc.asyncProperty(frames, async (make) => {
        if (socket.closed !== undefined) {
          closeCodes.set(socket.closed, (closeCodes.get(socket.closed) ?? 0) + 1);
          expect(ANSWER_CLOSE_CODES).toContain(socket.closed);
          socket = await FuzzSocket.open(platform.gatewayWsUrl, headers, hello, errorCodes);
          reconnects += 1;
        }
        const frame = make();
        kinds.set(frame.kind, (kinds.get(frame.kind) ?? 0) + 1);
        // What the gateway's own parser makes of it: anything it refuses must be answered.
        const refused = frame.binary || !parseFrame(AgentFrame, frame.data as string | Buffer).ok;
        const errorsBefore = socket.protocolErrors;
        socket.send(frame);
        sent += 1;
        const outcome = await socket.probe(`probe-${sent}`);
        if (refused && outcome === 'pong' && socket.protocolErrors === errorsBefore)
          unanswered.push(`${frame.kind}: ${String(frame.data).slice(0, 200)}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    if (socket.closed !== undefined) closeCodes.set(socket.closed, (closeCodes.get(socket.closed) ?? 0) + 1);
    socket.ws.close();
    process.stdout.write(
      `frame fuzz: ${sent} frames (${JSON.stringify(Object.fromEntries(kinds))}), protocol errors ${JSON.stringify(Object.fromEntries(errorCodes))}, closes ${JSON.stringify(Object.fromEntries(closeCodes))}, ${reconnects} reconnects, seed ${SEED}\n`,
    );
    expect(unanswered).toEqual([]);
    unanswered = [];

    // The gateway is alive and serves the agent beside the fuzzer.
    const health = await platform.gateway.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.json()).toMatchObject({ status: 'ok' });
    const res = await query(healthy.id, 'SELECT 1 AS one');
    expect(res.status).toBe(200);
    expect(res.body.result?.rows).toEqual([[1]]);
    // Nothing the fuzzer sent reached the gateway's error paths (an unhandled error logs at level 50).
    expect(platform.logs.lines.filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  }, 600_000);
});
