import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  AuditCheckpoint,
  AuditCheckpointScope,
  AuditRecord,
  ChainBreakReason,
  ChainVerifier,
  signCheckpoint,
  verifyCheckpoints,
  hashRecord,
  linkRecord,
  type AuditChainHead,
  type AuditRecordFields,
  type ChainVerification,
} from '@vansales/protocol';

export const AuditLogErrorCode = {
  /** The file could not be opened, read or written; the message names the system error. */
  io: 'io',
  /** The last line is not a valid record of a chain, so the next one could not be linked to it. */
  corruptTail: 'corrupt-tail',
  /** The fields given to append do not make a valid record. */
  invalidRecord: 'invalid-record',
  /** append after close. */
  closed: 'closed',
} as const;
export type AuditLogErrorCode = (typeof AuditLogErrorCode)[keyof typeof AuditLogErrorCode];

export class AuditLogError extends Error {
  override name = 'AuditLogError';
  constructor(
    readonly code: AuditLogErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Fields of one operation; `at` defaults to now. */
export type AuditEntry = Omit<AuditRecordFields, 'at'> & { at?: string };

export interface AuditLog {
  readonly path: string;
  /** Links and appends one record; concurrent calls are written one after another, in call order. */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** The last record's seq and hash (null for an empty log). */
  head(): AuditChainHead | null;
  close(): Promise<void>;
}

export interface OpenAuditLogOptions {
  path: string;
  /** fsync after every record: survives a power cut, costs a disk flush per operation. */
  fsync?: boolean;
  /**
   * The agent's private key (PKCS#8 PEM): each record's head is signed into `<path>.heads`, so a
   * rewritten and re-hashed chain no longer matches, and verify with the public key says so.
   */
  signWith?: string;
  now?: () => Date;
}

/** Where the signed heads of an audit log go: one JSON line {seq, hash, signature} per record. */
export const headsPathOf = (path: string) => `${path}.heads`;

function ioError(err: unknown, what: string): AuditLogError {
  const e = err as NodeJS.ErrnoException;
  return new AuditLogError(AuditLogErrorCode.io, `cannot ${what}: ${e.code ?? e.message ?? String(err)}`);
}

/** Reads the last line of a file from its end, without loading the whole file. */
async function lastLine(handle: FileHandle, size: number, path: string): Promise<string | null> {
  if (size === 0) return null;
  const tail = Buffer.alloc(1);
  await handle.read(tail, 0, 1, size - 1);
  if (tail[0] !== 0x0a) {
    throw new AuditLogError(
      AuditLogErrorCode.corruptTail,
      `audit log ${path} does not end with a newline: its last record was cut off; check it with: mini-connector audit verify ${path}`,
    );
  }
  const chunks: Buffer[] = [];
  let end = size - 1;
  const step = 64 * 1024;
  while (end > 0) {
    const start = Math.max(0, end - step);
    const buf = Buffer.alloc(end - start);
    await handle.read(buf, 0, buf.length, start);
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) {
      chunks.unshift(buf.subarray(nl + 1));
      break;
    }
    chunks.unshift(buf);
    end = start;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function recordFromLine(line: string, path: string): AuditRecord {
  let record: AuditRecord | undefined;
  try {
    const parsed = AuditRecord.safeParse(JSON.parse(line));
    if (parsed.success && hashRecord(parsed.data) === parsed.data.hash) record = parsed.data;
  } catch {
    // reported below
  }
  if (!record) {
    throw new AuditLogError(
      AuditLogErrorCode.corruptTail,
      `the last line of audit log ${path} is not a valid audit record; check it with: mini-connector audit verify ${path}`,
    );
  }
  return record;
}

/**
 * Opens (creating with mode 0600) an append-only JSONL audit log and resumes its chain from the last
 * line. Only the last record is checked at open; `verifyAuditFile` checks the whole chain.
 * One process should own a file: two writers would each extend the chain from their own head.
 */
export async function openAuditLog(options: OpenAuditLogOptions): Promise<AuditLog> {
  const { path } = options;
  const now = options.now ?? (() => new Date());
  let handle: FileHandle;
  try {
    handle = await open(path, 'a+', 0o600);
  } catch (err) {
    throw ioError(err, `open audit log ${path}`);
  }
  let head: AuditChainHead | null;
  try {
    const { size } = await handle.stat();
    const line = await lastLine(handle, size, path);
    const last = line === null ? null : recordFromLine(line, path);
    head = last && { seq: last.seq, hash: last.hash };
  } catch (err) {
    await handle.close();
    throw err instanceof AuditLogError ? err : ioError(err, `read audit log ${path}`);
  }

  let heads: FileHandle | undefined;
  if (options.signWith) {
    try {
      heads = await open(headsPathOf(path), 'a', 0o600);
    } catch (err) {
      await handle.close();
      throw ioError(err, `open the signed heads ${headsPathOf(path)}`);
    }
  }

  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const write = async (entry: AuditEntry): Promise<AuditRecord> => {
    if (closed) throw new AuditLogError(AuditLogErrorCode.closed, `audit log ${path} is closed`);
    let record: AuditRecord;
    try {
      record = linkRecord(head, { ...entry, at: entry.at ?? now().toISOString() });
    } catch (err) {
      const issue = (err as { issues?: { path: PropertyKey[]; message: string }[] }).issues?.[0];
      throw new AuditLogError(
        AuditLogErrorCode.invalidRecord,
        `invalid audit record: ${issue ? `${issue.path.join('.')}: ${issue.message}` : String(err)}`,
      );
    }
    try {
      // One write per record: with O_APPEND the line lands whole at the end of the file.
      await handle.appendFile(`${JSON.stringify(record)}\n`, 'utf8');
      if (options.fsync) await handle.datasync();
      if (heads && options.signWith) {
        const checkpoint = signCheckpoint(
          options.signWith,
          { scope: AuditCheckpointScope.agent, tenantId: record.tenantId, connectorId: record.connectorId },
          { seq: record.seq, hash: record.hash },
        );
        await heads.appendFile(`${JSON.stringify(checkpoint)}\n`, 'utf8');
        if (options.fsync) await heads.datasync();
      }
    } catch (err) {
      throw ioError(err, `append to audit log ${path}`);
    }
    head = { seq: record.seq, hash: record.hash };
    return record;
  };

  return {
    path,
    append(entry) {
      const result = queue.then(() => write(entry));
      queue = result.catch(() => undefined);
      return result;
    },
    head: () => head,
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      await handle.close();
      await heads?.close();
    },
  };
}

async function* linesOf(path: string, what: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } catch (err) {
    throw ioError(err, `read ${what} ${path}`);
  } finally {
    lines.close();
    stream.destroy();
  }
}

/**
 * Streams a JSONL audit file through the chain verifier; names the first broken link. With the
 * agent's public key (the one the gateway has enrolled), also checks the signed heads beside it:
 * a chain rewritten and re-hashed by someone without the private key fails.
 */
export async function verifyAuditFile(path: string, options: { publicKey?: string } = {}): Promise<ChainVerification> {
  type Signed = AuditCheckpoint & { line: number };
  const checkpoints = new Map<number, Signed>();
  if (options.publicKey) {
    let n = 0;
    try {
      for await (const line of linesOf(headsPathOf(path), 'the signed heads')) {
        n++;
        const parsed = AuditCheckpoint.safeParse(
          (() => {
            try {
              return JSON.parse(line);
            } catch {
              return undefined;
            }
          })(),
        );
        if (!parsed.success)
          return {
            ok: false,
            brokenAt: 0,
            index: n - 1,
            reason: ChainBreakReason.checkpointSignature,
            message: `line ${n} of ${headsPathOf(path)} is not a signed head`,
            count: 0,
          };
        checkpoints.set(parsed.data.seq, { ...parsed.data, line: n });
      }
    } catch (err) {
      if ((err as AuditLogError).message?.includes('ENOENT') !== true) throw err;
    }
  }
  const verifier = new ChainVerifier();
  // Only what a checkpoint needs is kept: the hash and chain of the records that have one.
  const signedRecords = new Map<number, { hash: string; tenantId: string; connectorId: string }>();
  for await (const line of linesOf(path, 'audit log')) {
    if (verifier.push(line)) break;
    if (checkpoints.size > 0) {
      const record = JSON.parse(line) as AuditRecord;
      if (checkpoints.has(record.seq))
        signedRecords.set(record.seq, {
          hash: record.hash,
          tenantId: record.tenantId,
          connectorId: record.connectorId,
        });
    }
  }
  const chain = verifier.result();
  if (!chain.ok || !options.publicKey) return chain;
  return verifyCheckpoints({
    chain,
    publicKey: options.publicKey,
    hashAt: (seq) => signedRecords.get(seq)?.hash,
    checkpoints: [...checkpoints.values()].map((cp) => {
      const r = signedRecords.get(cp.seq);
      return {
        seq: cp.seq,
        hash: cp.hash,
        signature: cp.signature,
        // A checkpoint past the chain's end names no chain: its hash check reports the cut.
        subject: { scope: AuditCheckpointScope.agent, tenantId: r?.tenantId ?? '', connectorId: r?.connectorId ?? '' },
      };
    }),
  });
}
