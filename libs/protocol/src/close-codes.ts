/** WebSocket close codes the gateway uses (4000-4999 is the application range). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unauthorized: 4401,
  keyRevoked: 4403,
  duplicateConnection: 4409,
  protocolVersion: 4426,
  helloTimeout: 4408,
  /** Too many bad frames (or pings) within a window: the agent is misbehaving or hostile. */
  tooManyProtocolErrors: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
