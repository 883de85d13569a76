/**
 * The transform engine on generated records (no services): records/s for a 6-field mapping, a
 * filter and a group-by through our engine (compiled path, JSONata path) and through bare `jsonata`
 * (one evaluation per record, the peer), in the same run, with ratios; then peak RSS of a 1M-row
 * join and a 1M-row aggregate, each in a child process of its own (VmHWM from /proc).
 * records_per_cpu_s divides by the CPU time the process used, so a busy machine reads per core.
 *
 *   node --import tsx transforms.ts [--rows 1000000] [--peer-rows 100000]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import jsonata from 'jsonata';
import type { TransformOp } from '@vansales/definitions';
import { encodeChunk, type ColumnSpec } from '@vansales/dataflow';
import {
  createMapper,
  parseTransformLimits,
  runTransform,
  transformObjects,
  transformObjectsInWorker,
  type Batches,
  type ObjectReader,
  type TransformRecord,
} from '@vansales/transforms';
import { cliOption, emit, round } from './common/json-lines';

const ROWS = Number(cliOption('rows') ?? 1_000_000);
if (!Number.isInteger(ROWS) || ROWS < 1 || ROWS > 100_000_000)
  throw new Error('--rows must be a whole number from 1 to 100000000');
/** Bare JSONata is slow enough that 1M records take minutes: it is measured on its own count (records/s does not depend on it). */
const PEER_ROWS = Math.min(ROWS, Number(cliOption('peer-rows') ?? 100_000));
const BATCH = 5_000;

const CITIES = ['Porto', 'Lisboa', 'Faro', 'Braga', 'Coimbra', 'Aveiro', 'Évora', 'Setúbal'];
function record(i: number): TransformRecord {
  return {
    id: i,
    customer: (i * 7919) % 100_000,
    qty: i % 9,
    price: ((i * 37) % 10_000) / 100,
    city: CITIES[i % CITIES.length],
    active: i % 3 !== 0,
    name: `item ${i}`,
  };
}
/** An order as an API or a document store gives it: a nested customer, lines, tags. */
function order(i: number): TransformRecord {
  const lines = [];
  for (let l = 0; l < 1 + (i % 4); l++)
    lines.push({ sku: `SKU-${(i + l) % 500}`, qty: 1 + ((i + l) % 5), amount: (((i + l) * 37) % 10_000) / 100 });
  return {
    id: i,
    country: ['PT', 'ES', 'FR', 'DE'][i % 4],
    status: i % 7 === 0 ? 'cancelled' : 'open',
    customer: {
      name: `customer ${(i * 7919) % 100_000}`,
      address: { city: ` ${CITIES[i % CITIES.length]} `, zip: `${1000 + (i % 8999)}-00${i % 10}` },
    },
    lines,
    tags: i % 3 === 0 ? ['b2b', 'priority'] : ['b2c'],
  };
}
async function* generated(n: number, offset = 0, make: (i: number) => TransformRecord = record): Batches {
  for (let i = 0; i < n; i += BATCH) {
    const batch: TransformRecord[] = [];
    for (let k = i; k < Math.min(n, i + BATCH); k++) batch.push(make(k + offset));
    yield batch;
  }
}

const MAPPING = {
  id: 'id',
  customer: 'customer',
  total: 'qty * price',
  label: 'city & " / " & name',
  big: 'qty * price > 400',
  discounted: 'price - price * 0.1',
};
/** The same mapping with two fields JSONata alone can say (functions): our engine compiles four, JSONata runs two per batch. */
const MIXED = { ...MAPPING, label: '$uppercase(city) & " / " & name', discounted: '$round(price * 0.9, 2)' };
const WHERE = 'qty > 2 and active and city != "Faro"';
/**
 * A 6-field mapping of orders as a workflow author writes it in JSONata (not simplified for us):
 * nested paths, sums and counts over lines, substrings, `in`, conditionals, an object constructor.
 */
const REALISTIC = {
  ref: '"SO-" & $string(id)',
  customer: '$uppercase($substring(customer.name, 0, 1)) & $substring(customer.name, 1)',
  total: '$round($sum(lines.amount), 2)',
  items: '$count(lines)',
  shipping:
    'status = "cancelled" ? "none" : (country in ["PT", "ES"] and $sum(lines.amount) > 100 ? "express" : "standard")',
  shipTo: '{ "city": $trim(customer.address.city), "zip": customer.address.zip, "tags": $join(tags, ",") }',
};

async function timed(fn: () => Promise<number>) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const records = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    records,
    seconds: round(seconds, 3),
    records_per_s: Math.round(records / seconds),
    records_per_cpu_s: Math.round(records / cpuSeconds),
  };
}

async function ours(op: TransformOp, compile: boolean, make = record, n = ROWS): Promise<number> {
  let out = 0;
  for await (const b of runTransform(op, { left: generated(n, 0, make) }, { compile })) out += b.length;
  return n + 0 * out;
}

/** The peer: bare jsonata, one evaluate per record, as an application would call it. */
async function bare(source: string, make = record, n = PEER_ROWS): Promise<number> {
  const expr = jsonata(source);
  for await (const batch of generated(n, 0, make)) for (const r of batch) await expr.evaluate(r);
  return n;
}

function vmHwmMb(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
}

const RSS_OPS: Record<string, TransformOp> = {
  join: { op: 'join', kind: 'inner', leftKey: ['customer'], rightKey: ['customer'] },
  aggregate: {
    op: 'aggregate',
    groupBy: ['customer', 'city'],
    measures: {
      n: { fn: 'count' },
      total: { fn: 'sum', field: 'price' },
      top: { fn: 'max', field: 'price' },
      avg: { fn: 'avg', field: 'qty' },
    },
  },
};

const column = (name: string, type: ColumnSpec['type']): ColumnSpec => ({ name, type, nullable: true, nativeType: '' });
const LEFT_COLUMNS = [
  column('id', { kind: 'integer', bits: 32 }),
  column('customer', { kind: 'integer', bits: 32 }),
  column('qty', { kind: 'integer', bits: 32 }),
  column('price', { kind: 'float', bits: 64 }),
  column('city', { kind: 'text' }),
  column('active', { kind: 'boolean' }),
  column('name', { kind: 'text' }),
];
const RIGHT_COLUMNS = [column('customer', { kind: 'integer', bits: 32 }), column('segment', { kind: 'text' })];
const CHUNK_ROWS = 50_000;

/** Writes a side's chunks as files (the local folder store's shape), once, before the measured children run. */
async function writeChunks(dir: string, columns: ColumnSpec[], right: boolean): Promise<void> {
  const names = columns.map((c) => c.name);
  for (let index = 0; index * CHUNK_ROWS < ROWS; index++) {
    const rows: unknown[][] = [];
    for (let i = index * CHUNK_ROWS; i < Math.min(ROWS, (index + 1) * CHUNK_ROWS); i++) {
      const r = record(i);
      const o: TransformRecord = right ? { customer: r.id, segment: `s${i % 17}` } : r;
      rows.push(names.map((n) => o[n]));
    }
    writeFileSync(join(dir, `${index}.chunk`), await encodeChunk(rows));
  }
}

/** An object whose chunks are the files writeChunks wrote, read when the transform asks for each. */
function chunkFiles(dir: string, columns: ColumnSpec[]): ObjectReader {
  return {
    schema: { columns, keyColumns: [] },
    rowCount: ROWS,
    chunkCount: Math.ceil(ROWS / CHUNK_ROWS),
    chunk: (index) => readFile(join(dir, `${index}.chunk`)),
  };
}

/**
 * Child mode: one 1M-row join or aggregate over chunk files, then the process's peak RSS. `bare`:
 * transformObjects in this thread with Node's default heap (the library alone); `worker`: as the
 * cloud activity and the agent run it, in a worker thread with the default limits.
 */
async function rssCase(name: string, how: string, dir: string): Promise<void> {
  const op = RSS_OPS[name];
  if (!op) throw new Error(`no case ${name}`);
  const inputs = {
    left: chunkFiles(join(dir, 'left'), LEFT_COLUMNS),
    ...(name === 'join' ? { right: chunkFiles(join(dir, 'right'), RIGHT_COLUMNS) } : {}),
  };
  const discard = { chunk: async () => undefined, commit: async () => undefined };
  const t = await timed(async () => {
    const limits = parseTransformLimits({
      spillDir: dir,
      ...(cliOption('heap-mb') ? { workerHeapMb: Number(cliOption('heap-mb')) } : {}),
      ...(cliOption('young-mb') ? { workerYoungMb: Number(cliOption('young-mb')) } : {}),
    });
    const result =
      how === 'worker'
        ? await transformObjectsInWorker(op, inputs, discard, { limits })
        : await transformObjects(op, inputs, discard, { limits });
    emit({ case: name, output_records: result.rows });
    return ROWS;
  });
  process.stdout.write(`${JSON.stringify({ ...t, peak_rss_mb: round(vmHwmMb(), 1) })}\n`);
}

async function main(): Promise<void> {
  const rssCaseName = cliOption('case');
  if (rssCaseName) return rssCase(rssCaseName, cliOption('how') ?? 'bare', cliOption('dir')!);
  if (cliOption('only') === 'rss') return rssCases();

  const objectOf = (fields: Record<string, string>) =>
    `{ ${Object.entries(fields)
      .map(([k, e]) => `"${k}": ${e}`)
      .join(', ')} }`;
  const mapObject = objectOf(MAPPING);
  const floor = await timed(async () => {
    let n = 0;
    for await (const b of generated(ROWS)) n += b.length;
    return n;
  });
  emit({ bench: 'transforms', case: 'floor: generating the records alone (in every figure below)', ...floor });
  const cases: { name: string; op: TransformOp; peer: string; make?: (i: number) => TransformRecord }[] = [
    {
      name: '6-field mapping of nested orders, as written in JSONata',
      op: { op: 'map', fields: REALISTIC },
      peer: objectOf(REALISTIC),
      make: order,
    },
    { name: '6-field mapping', op: { op: 'map', fields: MAPPING }, peer: mapObject },
    { name: '6-field mapping, 2 fields with functions', op: { op: 'map', fields: MIXED }, peer: objectOf(MIXED) },
    { name: 'filter', op: { op: 'filter', where: WHERE }, peer: WHERE },
  ];
  for (const c of cases) {
    const compiled = await timed(() => ours(c.op, true, c.make));
    const viaJsonata = await timed(() => ours(c.op, false, c.make));
    const peer = await timed(() => bare(c.peer, c.make));
    const fields = c.op.op === 'map' ? createMapper(c.op.fields).fields : [];
    if (c.op.op === 'map')
      emit({
        bench: 'transforms',
        case: c.name,
        fields_compiled: fields.filter((f) => f.compiled).map((f) => f.name),
        fields_by_jsonata: fields.filter((f) => !f.compiled).map((f) => f.name),
      });
    emit({
      bench: 'transforms',
      case: c.name,
      path: 'ours, compiled (JSONata for what does not compile)',
      ...compiled,
    });
    emit({ bench: 'transforms', case: c.name, path: 'ours, JSONata only (compile off)', ...viaJsonata });
    emit({ bench: 'transforms', case: c.name, path: 'bare jsonata, evaluate per record', ...peer });
    emit({
      bench: 'transforms',
      case: c.name,
      ratio_compiled_vs_bare: round(compiled.records_per_cpu_s / peer.records_per_cpu_s, 1),
      ratio_jsonata_path_vs_bare: round(viaJsonata.records_per_cpu_s / peer.records_per_cpu_s, 2),
      targets: 'JSONata path >= 40,000 records/s per core; compiled >= 1,000,000 records/s',
    });
  }

  // Group-by: our aggregate op against JSONata's own grouping over the same records in one array.
  const groupOp: TransformOp = {
    op: 'aggregate',
    groupBy: ['city'],
    measures: { n: { fn: 'count' }, total: { fn: 'sum', field: 'price' } },
  };
  const grouped = await timed(() => ours(groupOp, true));
  const peerGroup = await timed(async () => {
    const all: TransformRecord[] = [];
    for await (const b of generated(PEER_ROWS)) all.push(...b);
    await jsonata('$ { city: { "n": $count($), "total": $sum(price) } }').evaluate(all);
    return PEER_ROWS;
  });
  emit({ bench: 'transforms', case: 'group-by', path: 'ours (aggregate op)', ...grouped });
  emit({ bench: 'transforms', case: 'group-by', path: 'bare jsonata group expression over one array', ...peerGroup });
  emit({
    bench: 'transforms',
    case: 'group-by',
    ratio_vs_bare: round(grouped.records_per_cpu_s / peerGroup.records_per_cpu_s, 1),
  });

  await rssCases();
}

async function rssCases(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-bench-transforms-'));
  try {
    mkdirSync(join(dir, 'left'));
    mkdirSync(join(dir, 'right'));
    await writeChunks(join(dir, 'left'), LEFT_COLUMNS, false);
    await writeChunks(join(dir, 'right'), RIGHT_COLUMNS, true);
    for (const name of ['join', 'aggregate'])
      for (const how of ['bare', 'worker']) {
        const child = spawnSync(
          process.execPath,
          [...process.execArgv, __filename, '--case', name, '--how', how, '--rows', String(ROWS), '--dir', dir],
          { encoding: 'utf8', maxBuffer: 1 << 20 },
        );
        if (child.status !== 0) throw new Error(`the ${name} case (${how}) failed: ${child.stderr}`);
        const lines = child.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        emit({
          bench: 'transforms',
          case: `${ROWS} rows ${name} over buffer chunks, peak RSS of the process`,
          path:
            how === 'worker'
              ? 'ours: a worker thread with the default limits (as the cloud worker and the agent run it)'
              : "bare library in the process's own thread, Node's default heap",
          ...lines[0],
          ...lines[1],
          target: '<= 300 MB',
        });
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
