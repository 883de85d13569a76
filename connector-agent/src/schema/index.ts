import type { SchemaSnapshot } from '@vansales/protocol';
import type { DiscoverOptions, DiscoveryTarget } from './assemble';

export { DiscoveryCancelledError, type DiscoverOptions, type DiscoveryTarget } from './assemble';

/**
 * Reads a database's structure from its catalog: schemas, tables, views, columns, keys, indexes,
 * row estimates. Read-only (one READ ONLY transaction where the database has one), a fixed small
 * number of statements whatever the number of tables, and a deterministic result.
 * Each dialect's driver is loaded only when used.
 */
export async function discoverSchema(db: DiscoveryTarget, options: DiscoverOptions = {}): Promise<SchemaSnapshot> {
  switch (db.dialect) {
    case 'postgres':
      return (await import('./discover-postgres')).discoverPostgres(db, options);
    case 'mysql':
      return (await import('./discover-mysql')).discoverMysql(db, options);
    case 'mssql':
      return (await import('./discover-mssql')).discoverMssql(db, options);
  }
}
