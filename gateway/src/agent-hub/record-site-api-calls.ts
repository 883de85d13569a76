import { SiteApiCalls } from '@vansales/protocol';
import type { ApiCallRecord, ApiCallRepository, DefinitionRunRepository } from '@vansales/metadata';
import type { Logger } from '../logger';
import { OPERATION_TASKS } from './api-operation-artifacts';
import type { ApiCallRecorder } from './proxy-activities';

/** How far back a reported call may have started (the site's clock); older is taken as now's. */
const MAX_CALL_AGE_MS = 7 * 24 * 3600_000;

/** The registered operation a task named as it left (the gateway resolved it in the tenant's registry). */
function operationOf(task: unknown): { apiId: string; version: number; key: string; step?: string } | undefined {
  const t = (task ?? {}) as { operation?: { apiId?: unknown; version?: unknown; key?: unknown }; step?: unknown };
  const { apiId, version, key } = t.operation ?? {};
  if (typeof apiId !== 'string' || typeof version !== 'number' || typeof key !== 'string') return undefined;
  return { apiId, version, key, ...(typeof t.step === 'string' ? { step: t.step } : {}) };
}

/**
 * The call audit of site steps (issue 11 item 3): the report an agent sends beside a task's answer
 * becomes rows of api_calls. Who ran the calls is the session's tenant and connector, never the
 * report's (it has no such fields; extra ones are dropped by the parse); which operation is the task's
 * as it left the gateway; the run is the activity's workflow, its definition the tenant's own run
 * record. A report that does not parse is logged and dropped: the audit never fails a step.
 */
export function recordSiteApiCalls(deps: {
  calls: Pick<ApiCallRepository, 'recordApiCalls'>;
  runs?: Pick<DefinitionRunRepository, 'get'>;
  log: Logger;
  now?: () => number;
}): ApiCallRecorder {
  const now = deps.now ?? Date.now;
  return async ({ tenantId, connectorId }, operation, task, actor, raw) => {
    const log = deps.log.child({ tenantId, connectorId, workflowId: actor.workflowId });
    try {
      const ref = OPERATION_TASKS.has(operation) ? operationOf(task) : undefined;
      if (!ref) return log.warn({ operation }, 'ignored an API call report for a task that calls no API operation');
      const parsed = SiteApiCalls.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return log.warn(
          { at: issue?.path.join('.') || '(root)', problem: issue?.message },
          "refused an agent's API call report: it is not one (the calls are not audited)",
        );
      }
      const report = parsed.data;
      if (report.apiId !== ref.apiId || report.version !== ref.version || report.operationKey !== ref.key)
        log.warn("an agent's API call report names another operation than its task: recorded under the task's");
      const run = actor.workflowId ? await deps.runs?.get(tenantId, actor.workflowId) : undefined;
      const at = now();
      const records = report.calls.map((call): ApiCallRecord => ({
        tenantId,
        connectorId,
        side: 'site',
        apiId: ref.apiId,
        version: ref.version,
        operationKey: ref.key,
        ...(run ? { definitionId: run.definitionId } : {}),
        ...(actor.workflowId ? { runId: actor.workflowId } : {}),
        ...(ref.step ? { stepId: ref.step } : {}),
        status: call.status,
        requestBytes: call.requestBytes,
        responseBytes: call.responseBytes,
        durationMs: call.durationMs,
        // The site's clock, held to the gateway's: never in the future, never older than a week.
        at: new Date(call.at > at || call.at < at - MAX_CALL_AGE_MS ? at : call.at),
      }));
      await deps.calls.recordApiCalls(records);
      if (report.dropped > 0)
        log.info(
          {
            apiId: ref.apiId,
            operationKey: ref.key,
            calls: report.count,
            failed: report.failed,
            recorded: records.length,
            requestBytes: report.requestBytes,
            responseBytes: report.responseBytes,
          },
          'a site step made more API calls than one report lists: the rest are counted here only',
        );
    } catch (err) {
      log.error({ err: (err as Error).message }, 'API call audit not written');
    }
  };
}
