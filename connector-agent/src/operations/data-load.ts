import { DataLoadInput, AgentErrorType, type BufferGrant, type DataLoadOutputT } from '@vansales/protocol';
import {
  loadObject,
  resumeState,
  type FollowedObject,
  type LoadProgress as PipelineLoadProgress,
} from '@vansales/dataflow';
import { followFailure, type BufferClient } from '../buffer/buffer-client';
import { OperationError, type OperationContext, type OperationHandler } from './operation';
import { grantOf, openConfigured, parseOrRefuse, policyOf, toOperationError, type DataDeps } from './data-support';

interface LoadProgress extends PipelineLoadProgress {
  objectId: string;
}

/** How long a following load waits for its extract to create the object (a cloud extract may be queued). */
const FOLLOW_CREATE_TIMEOUT_SECONDS = 3600;

/**
 * The agent's side of dataflow's loadObject: chunks come from the buffer through the gateway with
 * the object-scoped grant, rows go into a database of this site, the site's policy decides which
 * tables may be written. With `follow`, the load starts with its extract: the gateway streams the
 * object's chunks as they are stored (`GET …/follow`) and the manifest seals them.
 */
export function createDataLoad(deps: DataDeps, buffer: BufferClient): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataLoadInput, raw, 'data.load');
    const grant = grantOf(input, 'read', 'data.load');
    // Ends the follow answer when the load ends early (a failed chunk), not only when the task is cancelled.
    const done = new AbortController();
    const signal = AbortSignal.any([ctx.signal, done.signal]);
    let progress: LoadProgress | undefined;
    try {
      const result = await loadObject(
        () => openConfigured(deps, input.database),
        {
          database: input.database,
          table: input.table,
          keyColumns: input.keyColumns,
          createIfMissing: input.createIfMissing,
          policy: policyOf(deps),
          objectId: input.objectId,
          resume: resumeState<LoadProgress>(
            ctx.resumeFrom,
            (r) => r.objectId === input.objectId && typeof r.chunksDone === 'number',
          ),
          signal: ctx.signal,
        },
        {
          manifest: async () => {
            const manifest = await buffer.manifest(grant, ctx.signal);
            return { schema: manifest.schema, chunkCount: manifest.chunks.length, rowCount: manifest.rowCount };
          },
          chunk: (index) => buffer.getChunk(grant, index, ctx.signal),
        },
        (chunk) => {
          progress = { objectId: input.objectId, ...chunk };
          ctx.progress(progress);
        },
        input.follow ? followed(buffer, grant, signal, ctx, () => progress ?? { objectId: input.objectId }) : undefined,
      );
      return result satisfies DataLoadOutputT;
    } catch (err) {
      throw toOperationError(err, AgentErrorType.writeFailed);
    } finally {
      done.abort();
    }
  };
}

/**
 * The gateway's follow answer as dataflow's FollowedObject: the schema frame first, then chunks in
 * order until `sealed`. A `wait` frame (the extract has nothing new stored) becomes a heartbeat, so a
 * slow extract does not look like a hung load. An `error` frame TAMPERED means a chunk already sent
 * was rewritten by a retried extract: the load then reads the committed object from chunk 0.
 */
function followed(
  buffer: BufferClient,
  grant: BufferGrant,
  signal: AbortSignal,
  ctx: OperationContext,
  lastProgress: () => unknown,
): FollowedObject {
  const answer = buffer.follow(grant, { createTimeoutSeconds: FOLLOW_CREATE_TIMEOUT_SECONDS, signal });
  const frames = answer[Symbol.asyncIterator]();
  let sealed: { chunkCount: number; rowCount: number } | undefined;
  let changed: OperationError | undefined;
  const broken = (what: string) =>
    new OperationError(AgentErrorType.bufferUnavailable, `the buffer follow answer ${what}; the load is retried`, true);
  const next = async () => {
    for (;;) {
      const step = await frames.next();
      if (step.done) throw broken('ended before the object was sealed');
      const { frame, body } = step.value;
      if (frame.t === 'wait') {
        ctx.progress(lastProgress());
        continue;
      }
      if (frame.t === 'error') {
        const failure = followFailure(frame);
        if (frame.code === 'TAMPERED') changed = failure;
        throw failure;
      }
      return { frame, body };
    }
  };
  return {
    async schema() {
      const { frame } = await next();
      if (frame.t !== 'schema') throw broken(`began with a ${frame.t} frame instead of the schema`);
      return frame.schema;
    },
    async *chunks() {
      for (let expected = 0; ; expected++) {
        const { frame, body } = await next();
        if (frame.t === 'sealed') {
          if (frame.chunkCount !== expected)
            throw broken(`sealed ${frame.chunkCount} chunks after sending ${expected}`);
          sealed = { chunkCount: frame.chunkCount, rowCount: frame.rowCount };
          return;
        }
        if (frame.t !== 'chunk' || frame.index !== expected || !body)
          throw broken(
            `sent ${frame.t === 'chunk' ? `chunk ${frame.index}` : `a ${frame.t} frame`} where chunk ${expected} was due`,
          );
        yield { index: frame.index, bytes: body };
      }
    },
    sealed: () => sealed!,
    changedUnderFollower: (err) => changed !== undefined && err === changed,
  };
}
