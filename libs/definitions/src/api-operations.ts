import type { ApiOperationRef, DefinitionDocument, Step } from './model';

/** One HTTP step of a definition that names a registered API operation. */
export interface ApiOperationUse {
  stepId: string;
  /** Where in the document, e.g. `steps[2].http.operation` or `steps[4].body.steps[0].http.operation`. */
  path: string;
  stepKind: 'source' | 'destination';
  operation: ApiOperationRef;
}

type AnyStep = Step | Extract<Step, { kind: 'for-each' }>['body']['steps'][number];

function collect(steps: readonly AnyStep[], prefix: string, into: ApiOperationUse[]): void {
  steps.forEach((step, i) => {
    const path = `${prefix}steps[${i}]`;
    if ((step.kind === 'source' || step.kind === 'destination') && step.http?.operation)
      into.push({
        stepId: step.id,
        path: `${path}.http.operation`,
        stepKind: step.kind,
        operation: step.http.operation,
      });
    if (step.kind === 'for-each') collect(step.body.steps, `${path}.body.`, into);
  });
}

/** Every step of a (parsed) definition that calls a registered API operation, for-each bodies included, in document order. */
export function apiOperationUses(document: Pick<DefinitionDocument, 'steps'>): ApiOperationUse[] {
  const uses: ApiOperationUse[] = [];
  collect(document.steps, '', uses);
  return uses;
}

/**
 * The steps that call one of `keys` of an API (any pinned version, or only those pinned to one of
 * `versions` when given): what must change before the definition can move to a version in which
 * those operations broke.
 */
export function stepsUsingOperations(
  document: Pick<DefinitionDocument, 'steps'>,
  apiId: string,
  keys: Iterable<string>,
  versions?: Iterable<number>,
): ApiOperationUse[] {
  const wanted = new Set(keys);
  const pinned = versions ? new Set(versions) : undefined;
  return apiOperationUses(document).filter(
    (u) => u.operation.apiId === apiId && wanted.has(u.operation.key) && (!pinned || pinned.has(u.operation.version)),
  );
}
