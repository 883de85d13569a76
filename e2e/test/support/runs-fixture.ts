import { randomBytes } from 'node:crypto';
import { DEFINITION_FORMAT, type DefinitionDocumentInput } from '@vansales/definitions';
import { seedRunsStatements, type SeedRuns } from '@vansales/test-kit';
import type { Platform } from './harness';
import { rawQuery } from './raw-sql';

/**
 * Documents and people for the runs list and run pages (REST and console tests): two definitions
 * the interpreter's stand-in runs (an approval that holds a run open, and a chain that fails where
 * `input.failAt` says), and members of a tenant with a given role signed in.
 */
const read = (id: string, database: string, connectorId?: string) => ({
  id,
  kind: 'source' as const,
  db: {
    endpoint: connectorId
      ? { kind: 'site-db' as const, connectorId, database }
      : { kind: 'cloud-db' as const, database },
    table: { name: 'invoices' },
  },
});

/** approve → extract (on the site of `connectorId`) → load: running until its approval comes. */
export const approvalDocument = (connectorId: string): DefinitionDocumentInput => ({
  format: DEFINITION_FORMAT,
  name: 'invoices awaiting approval',
  triggers: [{ kind: 'manual' }],
  steps: [{ id: 'approve', kind: 'wait-for-signal' }, read('extract', 'erp', connectorId), read('load', 'dw')],
  edges: [
    { from: 'approve', to: 'extract' },
    { from: 'extract', to: 'load' },
  ],
});

/** extract → transform → load in the cloud: `{ failAt: 'transform' }` as input makes it fail there. */
export const chainDocument = (): DefinitionDocumentInput => ({
  format: DEFINITION_FORMAT,
  name: 'invoice chain',
  triggers: [{ kind: 'manual' }],
  steps: [read('extract', 'erp'), read('transform', 'erp'), read('load', 'dw')],
  edges: [
    { from: 'extract', to: 'transform' },
    { from: 'transform', to: 'load' },
  ],
});

/** A member of `tenantId` with `role`, signed in: their session token. */
export async function memberSession(
  platform: Pick<Platform, 'api'>,
  tenantId: string,
  role: 'owner' | 'admin' | 'author' | 'operator' | 'viewer',
): Promise<string> {
  const email = `${role}-${randomBytes(4).toString('hex')}@example.com`;
  const password = randomBytes(18).toString('base64url');
  const added = await platform.api('POST', `/v1/tenants/${tenantId}/members`, { email, role, password });
  if (added.status !== 201) throw new Error(`adding ${role}: ${added.status} ${JSON.stringify(added.body)}`);
  const session = await platform.api<{ token: string }>('POST', '/v1/sessions', { email, password });
  if (session.status !== 201) throw new Error(`signing in: ${session.status} ${JSON.stringify(session.body)}`);
  return session.body.token;
}

/** Seeds recorded runs straight into the gateway's metadata store (see seedRunsStatements). */
export async function seedRuns(platform: Pick<Platform, 'gateway'>, options: SeedRuns): Promise<void> {
  for (const s of seedRunsStatements(options)) await rawQuery(platform.gateway.db, s.text, s.values);
}
