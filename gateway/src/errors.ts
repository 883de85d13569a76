/**
 * The gateway's one error class. Each code maps to one HTTP status (the table below is the
 * documented contract); messages are written for the caller, and 5xx never carry internals.
 */
export const GatewayErrorCode = {
  badRequest: 'BAD_REQUEST',
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  notFound: 'NOT_FOUND',
  conflict: 'CONFLICT',
  workflowFailed: 'WORKFLOW_FAILED',
  unavailable: 'UNAVAILABLE',
  internal: 'INTERNAL',
} as const;
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

export const HTTP_STATUS: Record<GatewayErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  WORKFLOW_FAILED: 422,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}
