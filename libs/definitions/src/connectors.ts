import type { DefinitionDocument, Endpoint, Step } from './model';

const connectorOf = (endpoint: Endpoint | undefined): string | undefined =>
  endpoint && (endpoint.kind === 'site-db' || endpoint.kind === 'site-api') ? endpoint.connectorId : undefined;

function stepConnectors(step: Step | Extract<Step, { kind: 'for-each' }>['body']['steps'][number], into: Set<string>) {
  if (step.kind === 'source' || step.kind === 'destination') {
    for (const id of [connectorOf(step.db?.endpoint), connectorOf(step.http?.endpoint)]) if (id) into.add(id);
  }
  if (step.kind === 'for-each') for (const inner of step.body.steps) stepConnectors(inner, into);
}

/**
 * Every connector a definition touches (its steps' site endpoints, for-each bodies included, and its
 * site-event triggers), sorted: a run's `ConnectorIds` search attribute, and what a connector's
 * control flag applies to.
 */
export function connectorIdsOf(document: Pick<DefinitionDocument, 'steps' | 'triggers'>): string[] {
  const ids = new Set<string>();
  for (const step of document.steps) stepConnectors(step, ids);
  for (const trigger of document.triggers ?? []) if (trigger.kind === 'site-event') ids.add(trigger.connectorId);
  return [...ids].sort();
}
