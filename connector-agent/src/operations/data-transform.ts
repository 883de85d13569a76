import { AgentErrorType, DataTransformInput, type BufferGrant, type DataTransformOutputT } from '@vansales/protocol';
import { parseObjectSchema } from '@vansales/dataflow';
import { TransformOp } from '@vansales/definitions';
import {
  TransformError,
  transformFailureType,
  parseTransformLimits,
  transformObjectsInWorker,
  type ObjectReader,
  type TransformLimitsInput,
} from '@vansales/transforms';
import { BufferRefusal, type BufferClient } from '../buffer/buffer-client';
import { OperationError, type OperationHandler } from './operation';
import { grantOf, parseOrRefuse, toOperationError } from './data-support';

/**
 * data.transform: a definition's transform of rows the site's policy protects, run on the site (the
 * agent's twin of the cloud's transformDataset, with the same engine and output). The input
 * object(s) come from the buffer and the output goes to it through the gateway, each with its own
 * object-scoped grant; the rows in between stay in this process.
 */
export function createDataTransform(buffer: BufferClient, limitsInput: TransformLimitsInput = {}): OperationHandler {
  const limits = parseTransformLimits(limitsInput);
  return async (raw, ctx) => {
    const input = parseOrRefuse(DataTransformInput, raw, 'data.transform');
    const op = parseOrRefuse(TransformOp, input.transform, 'data.transform');
    const leftGrant = grantOf({ objectId: input.inputs.left, buffer: input.leftBuffer }, 'read', 'data.transform');
    const rightGrant =
      input.inputs.right !== undefined
        ? grantOf({ objectId: input.inputs.right, buffer: input.rightBuffer }, 'read', 'data.transform')
        : undefined;
    const outputGrant = grantOf(
      { objectId: input.outputObjectId, buffer: input.outputBuffer },
      'write',
      'data.transform',
    );
    const open = async (grant: BufferGrant): Promise<ObjectReader> => {
      const manifest = await buffer.manifest(grant, ctx.signal);
      return {
        schema: parseObjectSchema(manifest.schema, grant.objectId),
        rowCount: manifest.rowCount,
        chunkCount: manifest.chunks.length,
        chunk: (index) => buffer.getChunk(grant, index, ctx.signal),
      };
    };
    const outputReadGrant =
      input.outputReadBuffer !== undefined
        ? grantOf({ objectId: input.outputObjectId, buffer: input.outputReadBuffer }, 'read', 'data.transform')
        : undefined;
    /** The output an earlier attempt committed (its answer lost on the way back), as that attempt answered it. */
    const committed = async (): Promise<DataTransformOutputT | undefined> => {
      if (!outputReadGrant) return undefined;
      const manifest = await buffer.committedManifest(outputReadGrant, ctx.signal);
      if (!manifest) return undefined;
      const schema = parseObjectSchema(manifest.schema, input.outputObjectId);
      return { objectId: input.outputObjectId, rows: manifest.rowCount, columns: schema.columns.map((c) => c.name) };
    };
    try {
      // A retry after a commit whose answer was lost: the object is the answer (the buffer refuses
      // to write a committed object again), as the cloud's transformDataset does.
      const done = await committed();
      if (done) return done;
      const left = await open(leftGrant);
      const right = rightGrant ? await open(rightGrant) : undefined;
      const out = await transformObjectsInWorker(
        op,
        { left, ...(right ? { right } : {}) },
        {
          chunk: (index, bytes, rows) => buffer.putChunk(outputGrant, index, bytes, rows, ctx.signal),
          commit: (body) => buffer.commit(outputGrant, body, ctx.signal),
        },
        // A worker thread with a capped heap (the agent keeps serving whatever the transform does); a
        // cancelled operation terminates it.
        { limits, progress: (p) => ctx.progress({ objectId: input.outputObjectId, ...p }), signal: ctx.signal },
      );
      return { objectId: input.outputObjectId, rows: out.rows, columns: out.columns } satisfies DataTransformOutputT;
    } catch (err) {
      // Another attempt committed it meanwhile (the first one still running when this retry began).
      if (err instanceof BufferRefusal && err.code === 'ALREADY_COMMITTED') {
        const done = await committed().catch(() => undefined);
        if (done) return done;
      }
      // The protocol's types of the same names (AgentErrorType.transform*) as the cloud's failures.
      if (err instanceof TransformError) throw new OperationError(transformFailureType(err), err.message, false);
      throw toOperationError(err, AgentErrorType.internal);
    }
  };
}
