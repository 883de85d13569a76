import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-tenants-connectors';
import * as m0002 from './0002-audit-events';
import * as m0003 from './0003-schema-snapshots';
import * as m0004 from './0004-key-machine-binding';
import * as m0005 from './0005-agent-key-pairs';
import * as m0006 from './0006-buffer-usage';
import * as m0007 from './0007-definitions';
import * as m0008 from './0008-definition-runs';
import * as m0009 from './0009-webhooks';
import * as m0010 from './0010-sync-state';
import * as m0011 from './0011-source-cursors';
import * as m0012 from './0012-api-artifacts';
import * as m0013 from './0013-credentials';
import * as m0014 from './0014-api-version-sources';
import * as m0015 from './0015-api-call-audit';
import * as m0016 from './0016-api-accessibility';
import * as m0017 from './0017-identity';
import * as m0018 from './0018-tenant-quotas';
import * as m0019 from './0019-invitations-sso-state';
import * as m0020 from './0020-run-listing';
import * as m0021 from './0021-connector-agent-status';
import * as m0022 from './0022-agent-releases';
import * as m0023 from './0023-connector-doctor-key-use';
import * as m0024 from './0024-tenant-row-security';
import * as m0025 from './0025-agent-update-status';

/**
 * Migrations are listed in code, not read from a folder at run time, so they survive bundling.
 * Names sort in the order they must run.
 */
const ALL: Record<string, Migration> = {
  '0001-tenants-connectors': m0001,
  '0002-audit-events': m0002,
  '0003-schema-snapshots': m0003,
  '0004-key-machine-binding': m0004,
  '0005-agent-key-pairs': m0005,
  '0006-buffer-usage': m0006,
  '0007-definitions': m0007,
  '0008-definition-runs': m0008,
  '0009-webhooks': m0009,
  '0010-sync-state': m0010,
  '0011-source-cursors': m0011,
  '0012-api-artifacts': m0012,
  '0013-credentials': m0013,
  '0014-api-version-sources': m0014,
  '0015-api-call-audit': m0015,
  '0016-api-accessibility': m0016,
  '0017-identity': m0017,
  '0018-tenant-quotas': m0018,
  '0019-invitations-sso-state': m0019,
  '0020-run-listing': m0020,
  '0021-connector-agent-status': m0021,
  '0022-agent-releases': m0022,
  '0023-connector-doctor-key-use': m0023,
  '0024-tenant-row-security': m0024,
  '0025-agent-update-status': m0025,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ALL,
};
