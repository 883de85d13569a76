import type { AgentCapability, AgentErrorType } from '@vansales/protocol';

export interface OperationContext {
  signal: AbortSignal;
  progress(details: unknown): void;
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
