import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A transform's private spill folder (0700, under the worker's temp folder): NDJSON files of
 * records written once and read back in order. Removed whole by close(), also after a failure.
 */
export class SpillArea {
  private files = 0;
  private constructor(readonly dir: string) {}

  static async open(base: string): Promise<SpillArea> {
    const dir = await mkdtemp(join(base, 'vsc-transform-'));
    await chmod(dir, 0o700);
    return new SpillArea(dir);
  }

  file(): SpillFile {
    return new SpillFile(join(this.dir, `${this.files++}.ndjson`));
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Lazily opens a spill area on first use: most transforms never spill. */
export class LazySpill {
  private area?: Promise<SpillArea>;
  constructor(private readonly base: string) {}
  async file(): Promise<SpillFile> {
    this.area ??= SpillArea.open(this.base);
    return (await this.area).file();
  }
  async close(): Promise<void> {
    if (this.area) await (await this.area).close();
  }
}

export class SpillFile {
  private stream?: WriteStream;
  private pending: string[] = [];
  private pendingBytes = 0;
  count = 0;
  constructor(readonly path: string) {}

  /** Buffers lines and writes them in blocks, honouring the stream's back-pressure. */
  async write(value: unknown): Promise<void> {
    const line = JSON.stringify(value);
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.count++;
    if (this.pendingBytes >= 256 * 1024) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    this.stream ??= createWriteStream(this.path, { mode: 0o600 });
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream!.once('drain', resolve));
  }

  /** Finishes writing; the file can then be read (any number of times). */
  async end(): Promise<void> {
    await this.flush();
    const stream = this.stream;
    if (!stream) return;
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(resolve);
    });
  }

  /** The values in the order written (end() first). */
  async *read<T>(): AsyncGenerator<T> {
    if (this.count === 0) return;
    const lines = createInterface({ input: createReadStream(this.path), crlfDelay: Infinity });
    for await (const line of lines) if (line.length > 0) yield JSON.parse(line) as T;
  }
}

/** FNV-1a over a key's text: which partition a key goes to. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
