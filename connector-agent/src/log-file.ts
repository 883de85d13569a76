import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const AGENT_LOG_FILE = 'mini-connector.log';

/**
 * A JSON-lines log file rotated by size: past `maxBytes` the file becomes `.1`, `.1` becomes `.2`,
 * and so on; `keep` rotated files are kept, older ones deleted. Writes are synchronous (the agent logs
 * a few lines per task): a line is on disk when the call returns, and a crash loses none. Files are
 * 0600: a log names databases and tables of the site.
 */
export class RotatingLogFile {
  private fd: number;
  private size: number;
  private closed = false;
  readonly path: string;

  constructor(
    dir: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, AGENT_LOG_FILE);
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  write(line: string): boolean {
    // A line logged while the agent shuts down, after the file was closed, is still on stdout.
    if (this.closed) return true;
    const bytes = Buffer.from(line);
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
    writeSync(this.fd, bytes);
    this.size += bytes.length;
    return true;
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.path}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (this.keep > 0) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
