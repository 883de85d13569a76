import { AgentErrorType, tableLabel, tableLabelOf, type TableRef } from '@vansales/protocol';
import { DataflowError, openDataConnection, type ColumnSpec, type DataConnection } from '@vansales/dataflow';
import type { DatabaseConfig } from '../config';
import { SitePolicyError, type SitePolicy } from '../policy/site-policy';
import { OperationError } from './operation';

/** What the data operations need from the agent: its databases and its site policy. */
export interface DataDeps {
  database(name: string): DatabaseConfig | undefined;
  /** Read for every task, so an edit of the site's file applies at once. */
  policy(): SitePolicy;
}

export function parseOrRefuse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, raw: unknown, operation: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OperationError(AgentErrorType.badInput, `invalid ${operation} input: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unknown'}`, false);
  }
  return parsed.data;
}

export function policyOf(deps: DataDeps): SitePolicy {
  try {
    return deps.policy();
  } catch (err) {
    if (err instanceof SitePolicyError) throw new OperationError(AgentErrorType.policyRefused, err.message, false);
    throw err;
  }
}

export async function openConfigured(deps: DataDeps, name: string): Promise<DataConnection> {
  const db = deps.database(name);
  if (!db) throw new OperationError(AgentErrorType.unknownDatabase, `no database named ${name} is configured on this agent`, false);
  try {
    return await openDataConnection({ dialect: db.dialect, host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, statementTimeoutMs: db.statementTimeoutMs });
  } catch (err) {
    throw toOperationError(err, AgentErrorType.databaseUnavailable);
  }
}

export function assertWritable(policy: SitePolicy, database: string, table: TableRef): void {
  if (!policy.canWrite(database, table)) {
    throw new OperationError(
      AgentErrorType.policyRefused,
      `writing to ${tableLabelOf(database, table)} is refused by ${policy.source}: add {"database": "${database}", "table": "${tableLabel(table)}"} to its writableTables to allow loads into it`,
      false,
    );
  }
}

/** Network-level failures of a database are worth a retry; everything else the server said is final. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST', '57P01', '57P02', '57P03', '08006', '08001', '08004', '40001', '40P01', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

export function toOperationError(err: unknown, fallback: typeof AgentErrorType[keyof typeof AgentErrorType] = AgentErrorType.sqlError): OperationError {
  if (err instanceof OperationError) return err;
  if (err instanceof DataflowError) {
    switch (err.code) {
      case 'UNMAPPABLE_TYPE':
        return new OperationError(AgentErrorType.unmappableType, err.message, false);
      case 'BAD_VALUE':
      case 'WRITE_FAILED':
      case 'DDL_FAILED':
        return new OperationError(AgentErrorType.writeFailed, err.message, false);
      case 'BAD_CHUNK':
      case 'CHUNK_TOO_LARGE':
        return new OperationError(AgentErrorType.bufferRefused, err.message, false);
      case 'BAD_IDENTIFIER':
      case 'BAD_REQUEST':
        return new OperationError(AgentErrorType.badInput, err.message, false);
      case 'CANCELLED':
        return new OperationError(AgentErrorType.cancelled, err.message, false);
      case 'CONNECTION_FAILED':
        return new OperationError(AgentErrorType.databaseUnavailable, err.message, true);
      default:
        return new OperationError(AgentErrorType.sqlError, err.message, err.retryable);
    }
  }
  const e = err as { message?: string; code?: string; name?: string };
  if (e.name === 'AbortError') return new OperationError(AgentErrorType.cancelled, 'cancelled', false);
  if (e.code && TRANSIENT_CODES.has(e.code)) return new OperationError(AgentErrorType.databaseUnavailable, `${e.code}: ${e.message ?? ''}`, true);
  return new OperationError(fallback, `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`, fallback === AgentErrorType.databaseUnavailable);
}

/** Looks a table up, failing with a message that names it. */
export async function describeOrFail(conn: DataConnection, database: string, table: TableRef): Promise<{ columns: ColumnSpec[]; primaryKey: string[] }> {
  const found = await conn.describeTable(table).catch((err: unknown) => {
    throw toOperationError(err);
  });
  if (!found) throw new OperationError(AgentErrorType.sqlError, `table ${tableLabelOf(database, table)} does not exist`, false);
  return found;
}

/** Progress the operations report, resumed from on a retry when it belongs to the same object/run. */
export function resumeState<T extends object>(resumeFrom: unknown, matches: (r: Partial<T>) => boolean): Partial<T> | undefined {
  if (!resumeFrom || typeof resumeFrom !== 'object') return undefined;
  const r = resumeFrom as Partial<T>;
  return matches(r) ? r : undefined;
}
