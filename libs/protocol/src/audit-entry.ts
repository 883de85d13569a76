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
  const text =
    typeof input.sql === 'string' ? input.sql : describeDataOperation(task.operation, task.input, task.output);
  const statement =
    text !== undefined
      ? sanitizeStatement({
          sql: text,
          params: Array.isArray(input.params) ? input.params : [],
          database: typeof input.database === 'string' ? input.database : undefined,
        })
      : undefined;
  const output = task.output as { rowCount?: unknown } | undefined;
  const outcome =
    task.errorType === undefined
      ? 'ok'
      : task.errorType === AgentErrorType.sqlRefused
        ? 'refused'
        : task.errorType === AgentErrorType.cancelled
          ? 'cancelled'
          : 'failed';
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

interface TableLike {
  schema?: unknown;
  name?: unknown;
}
const tableText = (t: TableLike | undefined) =>
  t && typeof t.name === 'string' ? `${typeof t.schema === 'string' ? `${t.schema}.` : ''}${t.name}` : '?';

/**
 * What a data operation did, in one line for the audit trail (its SQL when it ran a query):
 * which table, which way, by which key and cursor. Never values, never the buffer grant.
 */
function describeDataOperation(operation: AgentCapability, raw: unknown, result: unknown): string | undefined {
  const input = (raw ?? {}) as {
    source?: { sql?: unknown; table?: TableLike; database?: unknown; columns?: unknown };
    destination?: { table?: TableLike; database?: unknown };
    table?: TableLike;
    keyColumns?: unknown;
    incremental?: { column?: unknown };
    objectId?: unknown;
    mode?: unknown;
  };
  const keys = Array.isArray(input.keyColumns) ? ` by ${input.keyColumns.join(', ')}` : '';
  const cursor = typeof input.incremental?.column === 'string' ? ` past cursor ${input.incremental.column}` : '';
  switch (operation) {
    case 'data.extract': {
      if (typeof input.source?.sql === 'string') return input.source.sql;
      // What the read used (the agent's plan: the policy's drops applied, keys and cursor added),
      // or, when it was refused before reading, what was asked for.
      const output = (result ?? {}) as { columns?: unknown; keyColumns?: unknown };
      const names = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined);
      const columns = names(output.columns) ?? names(input.source?.columns);
      const usedKeys = names(output.columns) ? names(output.keyColumns) : names(input.keyColumns);
      return `extract ${tableText(input.source?.table)}${columns ? ` columns ${columns.join(', ')}` : ''}${usedKeys ? ` by key ${usedKeys.join(', ')}` : ''}${cursor} to buffer object ${String(input.objectId)}`;
    }
    case 'table.watch': {
      // Names, never values: the position (`after`) holds cursor and key values of the site's rows.
      const watch = (raw ?? {}) as { table?: TableLike; cursorColumn?: unknown; notifyChannel?: unknown };
      const rowCount = (result as { rowCount?: unknown } | undefined)?.rowCount;
      const rows = typeof rowCount === 'number' && rowCount > 0;
      return `watch ${tableText(watch.table)} past cursor ${String(watch.cursorColumn)}${keys}${typeof watch.notifyChannel === 'string' ? ` (listening on ${watch.notifyChannel})` : ''}${rows ? ` to buffer object ${String(input.objectId)}` : ''}`;
    }
    case 'data.load':
      return `load buffer object ${String(input.objectId)} into ${tableText(input.table)} (upsert${keys})`;
    case 'data.transfer':
      return `transfer ${String(input.source?.database)}.${tableText(input.source?.table)} to ${String(input.destination?.database)}.${tableText(input.destination?.table)} (${String(input.mode ?? 'upsert')}${keys}${cursor})`;
    case 'data.transform': {
      // The op's kind and the objects, never a value nor the script or expressions (their size only).
      const tx = (raw ?? {}) as {
        transform?: unknown;
        inputs?: { left?: unknown; right?: unknown };
        outputObjectId?: unknown;
      };
      const op = (tx.transform ?? {}) as { op?: unknown };
      const kind = typeof op.op === 'string' ? op.op.slice(0, 32) : '?';
      const size = Buffer.byteLength(JSON.stringify(tx.transform ?? null) ?? '');
      const right = typeof tx.inputs?.right === 'string' ? ` and ${tx.inputs.right}` : '';
      return `transform (${kind}, ${size} bytes) buffer object ${String(tx.inputs?.left)}${right} to buffer object ${String(tx.outputObjectId)}`;
    }
    case 'http.read':
    case 'http.write': {
      // The API's name and the path asked for (the site resolves them); never a query value or a body.
      const http = (raw ?? {}) as { api?: unknown; method?: unknown; path?: unknown };
      const path = typeof http.path === 'string' ? http.path.split('?')[0]!.slice(0, 500) : '?';
      return operation === 'http.read'
        ? `http ${String(http.method ?? 'GET')} ${String(http.api)} ${path} to buffer object ${String(input.objectId)}`
        : `http ${String(http.method ?? 'POST')} ${String(http.api)} ${path} from buffer object ${String(input.objectId)}`;
    }
    case 'http.write-table': {
      // The table read and the API written, never a value: the rows themselves stayed on the site.
      const http = (raw ?? {}) as { api?: unknown; method?: unknown; path?: unknown };
      const path = typeof http.path === 'string' ? http.path.split('?')[0]!.slice(0, 500) : '?';
      const column = (input.source as { incremental?: { column?: unknown } } | undefined)?.incremental?.column;
      const since = typeof column === 'string' ? ` past cursor ${column}` : '';
      return `http ${String(http.method ?? 'POST')} ${String(http.api)} ${path} from ${String(input.source?.database)}.${tableText(input.source?.table)}${since}`;
    }
    case 'api.fetch-spec': {
      // The URL without its query (a query may carry a value the site did not mean to log).
      const url = typeof (raw as { url?: unknown } | undefined)?.url === 'string' ? (raw as { url: string }).url : '?';
      return `fetch API specification ${url.split(/[?#]/)[0]!.slice(0, 500)}`;
    }
    default:
      return undefined;
  }
}
