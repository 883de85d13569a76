/** Task queue polled only by the gateway node that holds this connector's WebSocket. */
export function connectorTaskQueue(connectorId: string): string {
  return `connector.${connectorId}`;
}
