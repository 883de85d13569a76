import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AGENT_ACTIVITY_OPERATIONS, type AgentActivities } from '@vansales/activities';
import { AgentErrorType, auditEntryFor, type AgentCapability, type TaskOutcome } from '@vansales/protocol';
import { currentTraceContext, type TraceContextFields } from '@vansales/tracing';
import type { AgentConnection } from './agent-connection';

/** Where the gateway's copy of the audit chain goes (the metadata store in production). */
export type AuditSink = (entry: ReturnType<typeof auditEntryFor>) => Promise<unknown>;

/**
 * The activities of one connector's task queue: each forwards its task over the agent's
 * WebSocket, turns agent progress into activity heartbeats (so cancellation can reach us),
 * records the outcome in the gateway's audit chain, and returns the agent's answer.
 */
/**
 * Turns an agent's output into what the activity returns, at the gateway: e.g. a schema snapshot
 * is stored in the registry and only its reference goes back into Temporal history.
 */
export type ResultTransform = (
  identity: { tenantId: string; connectorId: string },
  operation: AgentCapability,
  input: unknown,
  output: unknown,
) => Promise<unknown>;

/**
 * Turns an activity's input into the task the agent receives, at the gateway: e.g. data operations
 * get a short-lived buffer grant, which therefore never enters Temporal history.
 */
export type TaskPreparer = (
  /** sessionId: the agent session the task leaves on (a buffer grant dies with it). */
  identity: { tenantId: string; connectorId: string; sessionId: string },
  operation: AgentCapability,
  input: unknown,
) => Promise<unknown>;

/**
 * Told the call report an agent sent beside a task's answer (a site step's API operation calls),
 * with the session's identity, the task as it left and the activity that ran it. The activity
 * waits for it before it completes (the audit is written when the step is), so it must not reject.
 */
export type ApiCallRecorder = (
  identity: { tenantId: string; connectorId: string },
  operation: AgentCapability,
  task: unknown,
  actor: TaskOutcome['actor'],
  report: unknown,
) => Promise<void>;

function traceHook(): { trace?: TraceContextFields } {
  const trace = currentTraceContext();
  return trace ? { trace } : {};
}

export function createProxyActivities(
  connection: AgentConnection,
  audit?: AuditSink,
  onAuditError?: (err: unknown) => void,
  transform?: ResultTransform,
  prepare?: TaskPreparer,
  recordCalls?: ApiCallRecorder,
): AgentActivities {
  const activities: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, operation] of Object.entries(AGENT_ACTIVITY_OPERATIONS)) {
    activities[name] = async (input: unknown) => {
      const ctx = Context.current();
      const { info } = ctx;
      const actor = {
        workflowId: info.workflowExecution?.workflowId ?? '',
        runId: info.workflowExecution?.runId ?? '',
        activityId: info.activityId,
        attempt: info.attempt,
      };
      const started = Date.now();
      let recorded: Promise<void> | undefined;
      const record = (result: Pick<TaskOutcome, 'output' | 'errorType'>) => {
        if (!audit) return;
        const { tenantId, connectorId } = connection.identity;
        audit(
          auditEntryFor({
            tenantId,
            connectorId,
            operation,
            input,
            actor,
            durationMs: Date.now() - started,
            ...result,
          }),
        ).catch((err) => onAuditError?.(err));
      };
      try {
        const task = prepare
          ? await prepare({ ...connection.identity, sessionId: connection.sessionId }, operation, input)
          : input;
        const output = await connection.runTask(
          operation,
          task,
          { ...actor, resumeFrom: info.heartbeatDetails },
          {
            signal: ctx.cancellationSignal,
            // The activity's span (Temporal's interceptor made it active) becomes the agent span's parent.
            ...traceHook(),
            onProgress: (details) => ctx.heartbeat(details),
            ...(recordCalls
              ? {
                  onApiCalls: (report: unknown) =>
                    void (recorded = recordCalls(
                      { tenantId: connection.identity.tenantId, connectorId: connection.identity.connectorId },
                      operation,
                      task,
                      actor,
                      report,
                    )),
                }
              : {}),
          },
        );
        record({ output });
        return transform ? await transform(connection.identity, operation, input, output) : output;
      } catch (err) {
        const errorType =
          err instanceof ApplicationFailure
            ? (err.type ?? AgentErrorType.internal)
            : ctx.cancellationSignal.aborted
              ? AgentErrorType.cancelled
              : AgentErrorType.internal;
        record({ errorType });
        throw err;
      } finally {
        await recorded;
      }
    };
  }
  return activities as unknown as AgentActivities;
}
