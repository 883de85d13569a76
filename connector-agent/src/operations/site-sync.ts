import {
  AgentErrorType,
  SyncChecksumInput,
  SyncDeleteInput,
  SyncExtractInput,
  type SyncChecksumOutputT,
  type SyncDeleteOutputT,
  type SyncExtractOutputT,
} from '@vansales/protocol';
import { deleteObjectKeys, extractRanges, rangeChecksums, type ObjectSink } from '@vansales/dataflow';
import type { BufferClient } from '../buffer/buffer-client';
import type { OperationHandler } from './operation';
import { grantOf, openConfigured, parseOrRefuse, policyOf, toOperationError, type DataDeps } from './data-support';

/**
 * The site's side of a bi-directional sync (pattern 3.4.3). `sync.checksum` is read-only and sends
 * back numbers only (a count and a checksum per key range); `sync.extract` sends the rows of the
 * ranges that differ to the buffer; `sync.delete` deletes keys from a table the site lets be written.
 * Every column a sync compares is checked against the site's policy first: a protected one refuses
 * the task, checksums included (see dataflow's planSyncRead). The SQL is built here from validated
 * identifiers and integer bounds, never sent by the cloud, and runs in a READ ONLY transaction.
 */
export function createSyncChecksum(deps: DataDeps): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SyncChecksumInput, raw, 'sync.checksum');
    const policy = policyOf(deps);
    const conn = await openConfigured(deps, input.database);
    try {
      return (await rangeChecksums(conn, { ...input, policy, signal: ctx.signal })) satisfies SyncChecksumOutputT;
    } catch (err) {
      throw toOperationError(err);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}

export function createSyncExtract(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SyncExtractInput, raw, 'sync.extract');
    const grant = grantOf(input, 'write', 'sync.extract');
    const policy = policyOf(deps);
    const conn = await openConfigured(deps, input.database);
    const sink: ObjectSink = {
      put: (index, bytes, rows) => buffer.putChunk(grant, index, bytes, rows, ctx.signal),
      commit: (manifest) => buffer.commit(grant, manifest, ctx.signal),
    };
    try {
      const result = await extractRanges(conn, { ...input, policy, signal: ctx.signal }, sink, (position) =>
        ctx.progress({ objectId: input.objectId, chunksDone: position.chunksDone }),
      );
      return { objectId: input.objectId, ...result } satisfies SyncExtractOutputT;
    } catch (err) {
      throw toOperationError(err);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}

export function createSyncDelete(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(SyncDeleteInput, raw, 'sync.delete');
    const grant = grantOf(input, 'read', 'sync.delete');
    const policy = policyOf(deps);
    const conn = await openConfigured(deps, input.database);
    try {
      // What the buffer holds was written by the cloud: its manifest is checked by the client, its rows here.
      const manifest = await buffer.manifest(grant, ctx.signal);
      return (await deleteObjectKeys(
        conn,
        { ...input, policy, signal: ctx.signal },
        { chunkCount: manifest.chunks.length, chunk: (i) => buffer.getChunk(grant, i, ctx.signal) },
        (done) => ctx.progress({ objectId: input.objectId, ...done }),
      )) satisfies SyncDeleteOutputT;
    } catch (err) {
      throw toOperationError(err, AgentErrorType.writeFailed);
    } finally {
      await conn.close().catch(() => undefined);
    }
  };
}
