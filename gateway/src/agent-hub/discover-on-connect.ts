import type { HelloFrame } from '@vansales/protocol';
import type { Logger } from '../logger';

export type DiscoverSchema = (tenantId: string, connectorId: string, database: string) => Promise<unknown>;

/**
 * Discovers every database an agent announces, each time it connects: the schema registry then
 * follows the site without anyone asking (an unchanged structure records no new version).
 * Discovery runs in the background; a failure is logged and waits for the next connect.
 */
export function discoverOnConnect(discover: DiscoverSchema, log: Logger) {
  return ({ tenantId, connectorId }: { tenantId: string; connectorId: string }, hello: HelloFrame): void => {
    if (!hello.capabilities.includes('schema.discover')) return;
    for (const database of hello.databases) {
      discover(tenantId, connectorId, database).catch((err: unknown) =>
        log.warn({ connectorId, database, err: (err as Error).message }, 'schema discovery on connect failed'),
      );
    }
  };
}
