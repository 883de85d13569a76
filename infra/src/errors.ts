/** The one error class of the infra tooling: a closed set of codes, each with a message a user can act on. */
export const InfraErrorCode = {
  portInUse: 'PORT_IN_USE',
  alreadyRunning: 'ALREADY_RUNNING',
  installFailed: 'INSTALL_FAILED',
  serviceFailed: 'SERVICE_FAILED',
  badConfig: 'BAD_CONFIG',
} as const;
export type InfraErrorCode = (typeof InfraErrorCode)[keyof typeof InfraErrorCode];

export class InfraError extends Error {
  constructor(
    readonly code: InfraErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InfraError';
  }
}
