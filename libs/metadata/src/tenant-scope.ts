import { AsyncLocalStorage } from 'node:async_hooks';
import { CompiledQuery, type DatabaseConnection } from 'kysely';

/**
 * The tenant a piece of work acts for, carried through its awaits (AsyncLocalStorage). Every
 * connection the metadata store hands out is set to it (`vsc.tenant_id`, read by the row-level
 * security policies of migration 0024), so inside a scope a query that forgot its tenant predicate
 * still sees and writes only that tenant's rows. Outside any scope (platform jobs, operator routes,
 * agent key lookups) the setting is empty and every row is visible: the predicates are the first wall.
 */
const scope = new AsyncLocalStorage<string>();

/** Runs `fn` (and all it awaits) as tenant `tenantId`'s work. */
export function runInTenantScope<T>(tenantId: string, fn: () => T): T {
  if (!tenantId) throw new Error('runInTenantScope: a tenant id is required');
  return scope.run(tenantId, fn);
}

/** Runs `fn` outside any tenant scope, e.g. a platform-wide job started from inside a request. */
export function runUnscoped<T>(fn: () => T): T {
  return scope.exit(fn);
}

/** The tenant of the current scope, if any. */
export function currentTenantScope(): string | undefined {
  return scope.getStore();
}

/**
 * What each connection was last set to, so a connection reused within the same scope costs no extra
 * round trip. Keyed by kysely's connection object, which lives as long as its pg client: a client the
 * pool dropped (server restart) comes back as a new connection with no entry, and is set again.
 */
const applied = new WeakMap<DatabaseConnection, string>();

/**
 * kysely's `onReserveConnection`: runs as a connection is taken for a query or a transaction (before
 * its BEGIN, so the session-level setting is not undone by a rollback).
 */
export async function applyTenantScope(connection: DatabaseConnection): Promise<void> {
  const wanted = scope.getStore() ?? '';
  if (applied.get(connection) === wanted) return;
  // Forget first: if the statement fails the connection's state is unknown, and the next use sets it again.
  applied.delete(connection);
  await connection.executeQuery(CompiledQuery.raw("SELECT set_config('vsc.tenant_id', $1, false)", [wanted]));
  applied.set(connection, wanted);
}
