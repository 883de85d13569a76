import { DEFINITION_FORMAT, type DefinitionDocumentInput, type DefinitionRunStatus } from '@vansales/definitions';
import { until, type Platform } from './harness';

/** All these helpers need of a platform: its REST (the in-process harness, or a gateway process reached by HTTP). */
export type PlatformApi = Pick<Platform, 'api'>;

/**
 * A workflow author's path through REST: save a definition (or a new version of it), publish it,
 * start a run and watch it to its end, as the console or a code-first user would.
 */
export interface RunView {
  runId: string;
  status: string;
  run: DefinitionRunStatus | null;
}

/** Saves `document` as definition `definitionId` (a new version when it exists) and publishes it. */
export async function publishDefinition(
  platform: PlatformApi,
  tenantId: string,
  definitionId: string,
  document: Omit<DefinitionDocumentInput, 'format'>,
): Promise<number> {
  const full = { format: DEFINITION_FORMAT, ...document };
  const base = `/v1/tenants/${tenantId}/definitions`;
  let saved = await platform.api<{ version: { version: number } }>('POST', base, { id: definitionId, document: full });
  if (saved.status === 409) saved = await platform.api('POST', `${base}/${definitionId}/versions`, { document: full });
  if (saved.status !== 201 && saved.status !== 200)
    throw new Error(`saving ${definitionId}: ${saved.status} ${JSON.stringify(saved.body)}`);
  const version = saved.body.version.version;
  const published = await platform.api('POST', `${base}/${definitionId}/publish`, { version });
  if (published.status !== 200)
    throw new Error(`publishing ${definitionId}: ${published.status} ${JSON.stringify(published.body)}`);
  return version;
}

/** Starts a run of the published version; answers its run id (the workflow id). */
export async function startDefinitionRun(
  platform: PlatformApi,
  tenantId: string,
  definitionId: string,
  input?: unknown,
): Promise<string> {
  const started = await platform.api<{ runId: string }>(
    'POST',
    `/v1/tenants/${tenantId}/definitions/${definitionId}/runs`,
    input === undefined ? {} : { input },
  );
  if (started.status !== 201)
    throw new Error(`starting ${definitionId}: ${started.status} ${JSON.stringify(started.body)}`);
  return started.body.runId;
}

/** Polls GET .../runs/:runId until the run is no longer running; answers its last view. */
export async function untilRunEnds(
  platform: PlatformApi,
  tenantId: string,
  definitionId: string,
  runId: string,
  ms = 120_000,
): Promise<RunView> {
  return until(
    `run ${runId} of ${definitionId} to end`,
    async () => {
      const got = await platform.api<RunView>(
        'GET',
        `/v1/tenants/${tenantId}/definitions/${definitionId}/runs/${runId}`,
      );
      if (got.status !== 200) throw new Error(`reading run ${runId}: ${got.status} ${JSON.stringify(got.body)}`);
      return got.body.status !== 'running' && got.body.run ? got.body : undefined;
    },
    ms,
  );
}

/** Publishes, starts and waits: the run's final view. */
export async function publishAndRun(
  platform: PlatformApi,
  tenantId: string,
  definitionId: string,
  document: Omit<DefinitionDocumentInput, 'format'>,
  input?: unknown,
): Promise<RunView> {
  await publishDefinition(platform, tenantId, definitionId, document);
  const runId = await startDefinitionRun(platform, tenantId, definitionId, input);
  return untilRunEnds(platform, tenantId, definitionId, runId);
}

/**
 * Each activity the run scheduled, by type, with the attempt it ended on (history keeps only the
 * last attempt's start event): a step retried by Temporal shows attempt > 1, the others 1.
 */
export async function activityAttempts(
  platform: Platform,
  workflowId: string,
): Promise<{ type: string; attempt: number }[]> {
  const history = await platform.temporal.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const started = new Map<string, number>();
  for (const e of events) {
    const s = e.activityTaskStartedEventAttributes;
    if (s) started.set(String(s.scheduledEventId), s.attempt ?? 1);
  }
  return events.flatMap((e) => {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return type ? [{ type, attempt: started.get(String(e.eventId)) ?? 0 }] : [];
  });
}
