import { sanitizeStatement, type AuditRecordFields } from './audit-chain';
import { AgentErrorType } from './agent-errors';
import type { AgentCapability } from './frames';

export interface TaskOutcome {
  tenantId: string;
  connectorId: string;
  operation: AgentCapability;
  input: unknown;
  actor: { workflowId: string; runId: string; activityId: string; attempt: number };
  durationMs: number;
  /** Set when the task succeeded. */
  output?: unknown;
  /** Set when it failed. */
  errorType?: string;
}

/**
 * The audit record of one agent task, built the same way on both sides (agent and gateway), so
 * the two chains can be compared: the statement without parameter values, the outcome, rows, bytes.
 */
export function auditEntryFor(task: TaskOutcome): Omit<AuditRecordFields, 'at'> {
  const input = (task.input ?? {}) as { sql?: unknown; params?: unknown; database?: unknown };
  const statement =
    typeof input.sql === 'string'
      ? sanitizeStatement({
          sql: input.sql,
          params: Array.isArray(input.params) ? input.params : [],
          database: typeof input.database === 'string' ? input.database : undefined,
        })
      : undefined;
  const output = task.output as { rowCount?: unknown } | undefined;
  const outcome =
    task.errorType === undefined ? 'ok' : task.errorType === AgentErrorType.sqlRefused ? 'refused' : task.errorType === AgentErrorType.cancelled ? 'cancelled' : 'failed';
  return {
    tenantId: task.tenantId,
    connectorId: task.connectorId,
    actor: task.actor,
    operation: task.operation,
    ...(statement ? { statement } : {}),
    outcome,
    ...(task.errorType !== undefined ? { errorType: task.errorType.slice(0, 128) } : {}),
    ...(typeof output?.rowCount === 'number' ? { rows: output.rowCount } : {}),
    ...(task.output !== undefined ? { bytes: Buffer.byteLength(JSON.stringify(task.output) ?? '') } : {}),
    durationMs: Math.max(0, Math.round(task.durationMs)),
  };
}
