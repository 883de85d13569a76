import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AgentErrorType } from '@vansales/protocol';
import { OBJECT_ID_PATTERN, type DataBuffer } from '@vansales/buffer';
import { parseObjectSchema } from '@vansales/dataflow';
import {
  DatasetRef,
  TransformOp,
  type DefinitionCloudActivities,
  type TransformDatasetInput,
} from '@vansales/definitions';
import {
  TransformError,
  TransformFailureType,
  transformFailureType,
  parseTransformLimits,
  transformObjectsInWorker,
  type ObjectReader,
  type TransformLimitsInput,
} from '@vansales/transforms';
import { z } from 'zod';
import { activityFailure } from './activity-failure';

/** Failure types of the transform activity (one table, shared with the agent's data.transform). */
export { TransformFailureType };

export type TransformActivities = Pick<DefinitionCloudActivities, 'transformDataset'>;

/**
 * Object ids as the buffer issues them (newObjectId is base64url: it has - and _, which
 * DatasetRef's pattern lacks): the buffer is the authority on its ids.
 */
const ObjectId = z.string().regex(OBJECT_ID_PATTERN, 'not a buffer object id');
const Ref = DatasetRef.extend({ objectId: ObjectId });
const Input = z.object({
  tenantId: z.string().min(1).max(64),
  transform: TransformOp,
  inputs: z.object({ left: Ref, right: Ref.optional() }),
  outputObjectId: ObjectId,
});

function failure(err: unknown): Error {
  if (err instanceof TransformError)
    return ApplicationFailure.create({ type: transformFailureType(err), message: err.message, nonRetryable: true });
  // Buffer and dataflow errors map as every cloud activity's do.
  return activityFailure(err);
}

/**
 * The cloud's transform step: reads the input buffer object(s) chunk by chunk, runs the transform
 * engine over them in a worker thread with a capped heap (bounded memory, spilling to the worker's
 * temp folder; a transform past its heap fails as TransformMemoryLimit while this process carries on), writes the output object
 * under the id the workflow chose (a retry rewrites the same object; once committed, a retry
 * returns it), and returns its reference. Objects are read under the input's tenant only, and the
 * manifest must say that tenant: another tenant's object id is refused, never read.
 */
export function createTransformActivities(deps: {
  buffer: DataBuffer;
  limits?: TransformLimitsInput;
}): TransformActivities {
  const limits = parseTransformLimits(deps.limits ?? {});

  const open = async (tenantId: string, ref: { objectId: string }) => {
    const manifest = await deps.buffer.readManifest(tenantId, ref.objectId);
    if (manifest.tenantId !== tenantId)
      throw ApplicationFailure.create({
        type: AgentErrorType.bufferRefused,
        message: `buffer object ${ref.objectId} is not tenant ${tenantId}'s`,
        nonRetryable: true,
      });
    const schema = parseObjectSchema(manifest.schema, ref.objectId);
    return { manifest, schema };
  };

  return {
    async transformDataset(raw: TransformDatasetInput) {
      const ctx = Context.current();
      try {
        const parsed = Input.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw ApplicationFailure.create({
            type: TransformFailureType.badTransform,
            message: `transformDataset input ${issue.path.join('.')}: ${issue.message}`,
            nonRetryable: true,
          });
        }
        const input = parsed.data;
        const { tenantId, transform: op } = input;

        // A retry after a commit whose result was lost: the object is the answer.
        const done = await deps.buffer.readManifest(tenantId, input.outputObjectId).catch(() => undefined);
        if (done) {
          const schema = parseObjectSchema(done.schema, input.outputObjectId);
          return {
            objectId: input.outputObjectId,
            rows: done.rowCount,
            columns: schema.columns.map((c) => c.name),
            writtenBy: 'cloud' as const,
          };
        }

        const left = await open(tenantId, input.inputs.left);
        const right = input.inputs.right ? await open(tenantId, input.inputs.right) : undefined;
        const reader = (ref: { objectId: string }, opened: Awaited<ReturnType<typeof open>>): ObjectReader => ({
          schema: opened.schema,
          rowCount: opened.manifest.rowCount,
          chunkCount: opened.manifest.chunks.length,
          chunk: (i) => deps.buffer.readChunk(tenantId, ref.objectId, i),
        });
        const out = await transformObjectsInWorker(
          op,
          {
            left: reader(input.inputs.left, left),
            ...(right ? { right: reader(input.inputs.right!, right) } : {}),
          },
          {
            open: () => deps.buffer.createObject(tenantId, { objectId: input.outputObjectId }).then(() => undefined),
            chunk: (index, bytes, rows) =>
              deps.buffer.writeChunk(tenantId, input.outputObjectId, index, bytes, rows).then(() => undefined),
            commit: (body) => deps.buffer.commit(tenantId, input.outputObjectId, body).then(() => undefined),
          },
          {
            limits,
            progress: (p) => ctx.heartbeat({ objectId: input.outputObjectId, ...p }),
            // Cancelling the step (delivered with a heartbeat) terminates the transform's worker.
            signal: ctx.cancellationSignal,
          },
        );
        return { objectId: input.outputObjectId, rows: out.rows, columns: out.columns, writtenBy: 'cloud' as const };
      } catch (err) {
        throw failure(err);
      }
    },
  };
}
