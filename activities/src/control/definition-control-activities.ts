import { ApplicationFailure } from '@temporalio/common';
import {
  DefinitionRunErrorType,
  type ApiAccess,
  type DefinitionControlActivities,
  type DefinitionStore,
  type DefinitionVersion,
  type LoadDefinitionVersionInput,
  type SourceCursorStore,
} from '@vansales/definitions';

/** Bytes a cursor value may take: a cursor is one column's value, never a row. */
export const MAX_CURSOR_BYTES = 4096;

export interface DefinitionControlDeps {
  store: DefinitionStore;
  cursors: SourceCursorStore;
  /** Where a registered API can be reached from (the gateway's artifact registry); without it, no API has any. */
  apiAccess?(tenantId: string, apiId: string): Promise<ApiAccess | undefined>;
}

/** A definition version of this tenant (the published one without `version`), or a clear non-retryable failure. */
export async function loadDefinitionVersionFrom(
  store: DefinitionStore,
  input: LoadDefinitionVersionInput,
): Promise<DefinitionVersion> {
  const found =
    input.version === undefined
      ? await store.published(input.tenantId, input.definitionId)
      : await store.version(input.tenantId, input.definitionId, input.version);
  if (!found || found.tenantId !== input.tenantId)
    throw ApplicationFailure.create({
      type: DefinitionRunErrorType.definitionNotFound,
      message:
        input.version === undefined
          ? `definition ${input.definitionId} has no published version for this tenant; publish it first`
          : `definition ${input.definitionId} has no version ${input.version} for this tenant`,
      nonRetryable: true,
    });
  return found;
}

/**
 * The interpreter's control activities, served where the metadata store is (the gateways, on
 * VSC_CONTROL_TASK_QUEUE): called definitions, and the cursors incremental sources reached.
 */
export function createDefinitionControlActivities(deps: DefinitionControlDeps): DefinitionControlActivities {
  return {
    loadDefinitionVersion: (input) => loadDefinitionVersionFrom(deps.store, input),

    readSourceCursors: (input) => deps.cursors.read(input.tenantId, input.definitionId, input.sources),

    apiAccess: async (input) => (await deps.apiAccess?.(input.tenantId, input.apiId)) ?? null,

    async saveSourceCursors(input) {
      for (const c of input.cursors) {
        const size = Buffer.byteLength(JSON.stringify(c.value) ?? '', 'utf8');
        if (c.value === undefined || size > MAX_CURSOR_BYTES)
          throw ApplicationFailure.create({
            type: DefinitionRunErrorType.valueTooLarge,
            message: `step ${c.stepId}: a cursor value must be JSON of at most ${MAX_CURSOR_BYTES} bytes (got ${size})`,
            nonRetryable: true,
          });
      }
      await deps.cursors.save(input.tenantId, input.definitionId, input.runId, input.cursors);
    },
  };
}
