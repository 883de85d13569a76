import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { TaskFrame } from '@vansales/protocol';
import { contextFromTrace } from '@vansales/tracing';

/**
 * The agent's span of one task, child of the gateway's activity span named by the task frame's
 * trace context (a root span when the frame has none). What it records, and what it never does:
 * - the operation, the task id, the attempt, the workflow and activity ids: to find the run;
 * - the logical database name from agent.json when the task names one (`sakila`), never a host,
 *   user or password: those stay in the site's vault;
 * - neither the SQL text nor its parameters, nor any input: a statement carries literal values
 *   (`WHERE email = '…'`) as often as placeholders, and a trace backend is not a place for site data.
 *   The site's audit chain already has the statement, on site;
 * - on failure only the error type (SqlRefused, PolicyRefused…), not the message: a database's message
 *   may quote a value (`Duplicate entry '…'`).
 */
export function startTaskSpan(tracer: Tracer, task: TaskFrame): Span {
  const input = task.input as { database?: unknown } | null;
  return tracer.startSpan(
    `agent ${task.operation}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'vsc.operation': task.operation,
        'vsc.task.id': task.taskId,
        'vsc.attempt': task.context.attempt,
        'vsc.workflow.id': task.context.workflowId,
        'vsc.activity.id': task.context.activityId,
        ...(typeof input?.database === 'string' ? { 'vsc.database': input.database } : {}),
      },
    },
    contextFromTrace(task.trace),
  );
}

/** Ends the task's span with its outcome: `ok`, or the error type of the failure frame. */
export function endTaskSpan(span: Span | undefined, outcome: string): void {
  if (!span) return;
  span.setAttribute('vsc.outcome', outcome);
  if (outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  span.end();
}
