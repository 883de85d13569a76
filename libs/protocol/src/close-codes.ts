/** WebSocket close codes the gateway uses (4000-4999 is the application range). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unauthorized: 4401,
  keyRevoked: 4403,
  duplicateConnection: 4409,
  protocolVersion: 4426,
  helloTimeout: 4408,
  /** The session's cluster lease was lost (revoked, taken over, or unrenewable while Redis was away): reconnect. */
  sessionLost: 4410,
  /** The agent missed several heartbeat intervals: the gateway treats the socket as dead. */
  heartbeatMissed: 4411,
  /** The gateway cannot reach the cluster store (Redis), so it accepts no new session: retry later. */
  clusterUnavailable: 4503,
  /** Too many bad frames (or pings) within a window: the agent is misbehaving or hostile. */
  tooManyProtocolErrors: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
