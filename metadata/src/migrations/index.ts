import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-tenants-connectors';

/**
 * Migrations are listed in code, not read from a folder at run time, so they survive bundling.
 * Names sort in the order they must run.
 */
const ALL: Record<string, Migration> = {
  '0001-tenants-connectors': m0001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ALL,
};
