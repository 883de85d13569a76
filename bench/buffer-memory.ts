/**
 * Benchmark: the buffer's memory stays bounded by the chunk size, whatever the object's size.
 * Streams a generated object (default 5 GB in 8 MB chunks, never held in memory) through
 * writeChunk/commit and back through readChunk (authenticated, SHA-256 checked), on the local
 * folder store and on the test MinIO, each in a child process of its own so each peak RSS is its
 * own. The floor, in the same run: the same bytes through the bare store (no encryption, no
 * checksums). Prints JSON lines; asserts nothing about time. Target: peak RSS ≤ 300 MB.
 *
 *   node --import tsx bench/buffer-memory.ts [--gb 5] [--chunk-mb 8] [--only local|s3] [--no-floor]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BUFFER_PREFIX,
  BufferKeyring,
  createLocalFolderStore,
  createS3Store,
  DataBuffer,
  MAX_CHUNK_BYTES,
  newBufferKeySpec,
  type BlobStore,
} from '@vansales/buffer';
import { emit, round, services } from './support';

const TARGET_PEAK_RSS_MB = 300;
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
};
const GB = Number(option('gb') ?? 5);
const CHUNK_MB = Number(option('chunk-mb') ?? 8);
const STORES = ['local', 's3'] as const;
type StoreKind = (typeof STORES)[number];
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

/** Resident memory, sampled while a phase runs: its peak in MB. */
function rssSampler(): { stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    stop() {
      clearInterval(timer);
      return round(Math.max(peak, process.memoryUsage.rss()) / 1024 / 1024, 1);
    },
  };
}

/** RSS of the child before any transfer (node, tsx, the SDK, one generated chunk): what the phases add to. */
let baselineRssMb = 0;

async function phase(store: StoreKind, name: string, bytes: number, run: () => Promise<void>): Promise<void> {
  const rss = rssSampler();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const peak = rss.stop();
  emit({
    bench: 'buffer-memory',
    store,
    phase: name,
    bytes,
    seconds: round(seconds),
    mb_per_s: round(bytes / 1024 / 1024 / seconds, 1),
    peak_rss_mb: peak,
    baseline_rss_mb: baselineRssMb,
    target_peak_rss_mb: TARGET_PEAK_RSS_MB,
  });
}

/** The child: one store, write then read, then the floor. */
async function child(kind: StoreKind): Promise<void> {
  const chunkBytes = CHUNK_MB * 1024 * 1024;
  const chunkCount = Math.ceil((GB * 1024 ** 3) / chunkBytes);
  const total = chunkCount * chunkBytes;
  // One random chunk, stamped with its index: incompressible like the gzip'd NDJSON it stands for.
  const chunk = randomBytes(chunkBytes);
  const stamp = (i: number) => (chunk.writeUInt32BE(i, 0), chunk);
  baselineRssMb = round(process.memoryUsage.rss() / 1024 / 1024, 1);

  let store: BlobStore;
  let cleanup: () => Promise<void>;
  if (kind === 'local') {
    const dir = mkdtempSync(join(process.env.VSC_STATE_DIR ?? tmpdir(), 'bench-buffer-'));
    store = createLocalFolderStore(dir);
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    // One bench bucket, reused and left empty: the test MinIO is throwaway state.
    const bucket = 'vsc-bench-buffer';
    const s3 = createS3Store({
      endpoint: services.minio.endpoint,
      region: 'us-east-1',
      bucket,
      accessKeyId: services.minio.accessKeyId,
      secretAccessKey: services.minio.secretAccessKey,
      forcePathStyle: true,
    });
    await s3.ensureBucket({ prefix: BUFFER_PREFIX, expireAfterDays: 1 });
    store = s3;
    cleanup = async () => undefined;
  }
  const emptyStore = async () => {
    const keys: string[] = [];
    for await (const e of store.list('')) keys.push(e.key);
    await store.deleteMany(keys);
  };
  const buffer = new DataBuffer({ store, keyring: BufferKeyring.fromSpec(newBufferKeySpec('bench')) });
  try {
    log(`${kind}: ${chunkCount} chunks of ${CHUNK_MB} MB (${round(total / 1024 ** 3, 2)} GB)`);
    const { objectId } = await buffer.createObject('bench');
    await phase(kind, 'write', total, async () => {
      for (let i = 0; i < chunkCount; i++) await buffer.writeChunk('bench', objectId, i, stamp(i), 1000);
      await buffer.commit('bench', objectId, {
        schema: { format: 'generated' },
        chunkCount,
        rowCount: chunkCount * 1000,
      });
    });
    await phase(kind, 'read', total, async () => {
      for (let i = 0; i < chunkCount; i++) {
        const plain = await buffer.readChunk('bench', objectId, i);
        if (plain.length !== chunkBytes || plain.readUInt32BE(0) !== i) throw new Error(`chunk ${i} came back wrong`);
      }
    });
    await buffer.deleteObject('bench', objectId);

    if (!args.includes('--no-floor')) {
      await phase(kind, 'write-floor', total, async () => {
        for (let i = 0; i < chunkCount; i++) await store.put(`floor/chunk-${i}`, stamp(i));
      });
      await phase(kind, 'read-floor', total, async () => {
        for (let i = 0; i < chunkCount; i++)
          if ((await store.get(`floor/chunk-${i}`))!.readUInt32BE(0) !== i)
            throw new Error(`floor chunk ${i} came back wrong`);
      });
    }
    emit({
      bench: 'buffer-memory',
      store: kind,
      phase: 'process',
      max_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
      target_peak_rss_mb: TARGET_PEAK_RSS_MB,
    });
  } finally {
    await emptyStore().catch(() => undefined);
    await cleanup();
    await store.close();
  }
}

async function main(): Promise<void> {
  const which = option('child') as StoreKind | undefined;
  if (which) return child(which);
  if (!(GB > 0) || !(CHUNK_MB > 0) || CHUNK_MB * 1024 * 1024 > MAX_CHUNK_BYTES)
    throw new Error(`--gb must be > 0 and --chunk-mb from 1 to ${MAX_CHUNK_BYTES / 1024 / 1024}`);
  const only = option('only');
  for (const kind of STORES.filter((s) => !only || s === only)) {
    // A process per store: its peak RSS is that store's alone.
    const code = await new Promise<number>((resolve) => {
      const p = spawn(process.execPath, [...process.execArgv, __filename, ...args, '--child', kind], {
        stdio: 'inherit',
      });
      p.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) throw new Error(`the ${kind} run failed (exit ${code})`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
