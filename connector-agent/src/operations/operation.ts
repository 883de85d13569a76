import type { AgentCapability, AgentErrorType, SiteApiCallsT } from '@vansales/protocol';

export interface OperationContext {
  /** Aborted when the task is cancelled or the link to the gateway drops. */
  signal: AbortSignal;
  /** Reports progress; it becomes the activity's heartbeat details, handed back on a retry. */
  progress(details: unknown): void;
  /** Which Temporal attempt this is (1 for the first). */
  attempt: number;
  /** The last progress the previous attempt reported, when this is a retry. */
  resumeFrom?: unknown;
  /**
   * The calls a site step made through an API operation: sent beside the answer (result or failure)
   * for the gateway's call audit. The last report of the task wins.
   */
  reportApiCalls?(report: SiteApiCallsT): void;
}

export type OperationHandler = (input: unknown, ctx: OperationContext) => Promise<unknown>;

/** An error the agent reports with a type from the protocol's registry. */
export class OperationError extends Error {
  constructor(
    readonly type: AgentErrorType,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'OperationError';
  }
}

export type OperationTable = Partial<Record<AgentCapability, OperationHandler>>;
