import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { ServiceContext } from '../service';
import { postgresUrl } from './postgres';

/**
 * The metadata store of `./vsc up` on the profile's PostgreSQL (the design's scale path), shared by
 * the gateway and the cloud worker through two logins: the gateway's owns the database (it runs the
 * migrations); the cloud worker's reaches only what its API operation steps need.
 */
export interface MetadataStore {
  database: string;
  gatewayRole: string;
  workerRole: string;
}

export const UP_METADATA_STORE: MetadataStore = {
  database: 'vsc_metadata',
  gatewayRole: 'vsc_gateway',
  workerRole: 'vsc_cloud_worker',
};

type Ctx = Pick<ServiceContext, 'ports' | 'secrets'>;

/** The gateway's (owner) or the cloud worker's (least privilege) DATABASE_URL. */
export function metadataUrl(ctx: Ctx, store: MetadataStore, who: 'gateway' | 'worker'): string {
  const [role, password] =
    who === 'gateway'
      ? [store.gatewayRole, ctx.secrets.metadataGatewayPassword]
      : [store.workerRole, ctx.secrets.metadataWorkerPassword];
  return `postgres://${role}:${encodeURIComponent(password)}@127.0.0.1:${ctx.ports.postgres}/${store.database}`;
}

/**
 * A SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's stored form): the role's password is set
 * from it, so the clear password never travels in a statement a server log could keep.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

async function asSuperuser<T>(ctx: Ctx, database: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: postgresUrl(ctx, database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (c: Client, name: string) => c.escapeIdentifier(name);

/**
 * Both logins (their passwords from secrets.json, set again each start so a changed file wins) and the
 * database, owned by the gateway's login; no one else may connect. Before the gateway starts.
 */
export async function ensureMetadataStore(ctx: Ctx, store: MetadataStore): Promise<void> {
  await asSuperuser(ctx, 'postgres', async (c) => {
    const logins: [string, string][] = [
      [store.gatewayRole, ctx.secrets.metadataGatewayPassword],
      [store.workerRole, ctx.secrets.metadataWorkerPassword],
    ];
    for (const [role, password] of logins) {
      const exists = (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount;
      const verb = exists ? 'ALTER' : 'CREATE';
      await c.query(
        `${verb} ROLE ${ident(c, role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${c.escapeLiteral(scramVerifier(password))}`,
      );
    }
    const db = (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [store.database])).rowCount;
    if (!db)
      await c.query(
        `CREATE DATABASE ${ident(c, store.database)} OWNER ${ident(c, store.gatewayRole)} ENCODING 'UTF8' TEMPLATE template0`,
      );
    await c.query(`REVOKE ALL ON DATABASE ${ident(c, store.database)} FROM PUBLIC`);
    await c.query(`GRANT CONNECT ON DATABASE ${ident(c, store.database)} TO ${ident(c, store.workerRole)}`);
  });
  // The gateway's login owns the schema its migrations create tables in; no other login creates anything
  // there (PostgreSQL before 15 let everyone).
  await asSuperuser(ctx, store.database, async (c) => {
    await c.query(`ALTER SCHEMA public OWNER TO ${ident(c, store.gatewayRole)}`);
    await c.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
  });
}

/**
 * What the cloud worker's login may do, and nothing more (granted after the gateway migrated, so the
 * tables exist): read the migration bookkeeping (opening the store checks it is current), read the SDK
 * registry's records, append to the API call audit, and read and update credentials (an OAuth token
 * refreshed by a step is written back). No tenant, key, definition or audit-chain table.
 */
export const CLOUD_WORKER_GRANTS: readonly { privileges: string; on: string }[] = [
  { privileges: 'SELECT', on: 'TABLE kysely_migration, kysely_migration_lock' },
  { privileges: 'SELECT', on: 'TABLE apis, api_versions, api_artifacts, api_version_artifacts' },
  { privileges: 'INSERT', on: 'TABLE api_calls' },
  { privileges: 'USAGE', on: 'SEQUENCE api_calls_id_seq' },
  { privileges: 'SELECT, INSERT, UPDATE', on: 'TABLE credentials' },
];

/** Grants CLOUD_WORKER_GRANTS, after taking back whatever the worker's login held (a narrower set stays narrow). */
export async function grantCloudWorker(ctx: Ctx, store: MetadataStore): Promise<void> {
  await asSuperuser(ctx, store.database, async (c) => {
    const worker = ident(c, store.workerRole);
    await c.query('BEGIN');
    await c.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${worker}`);
    await c.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${worker}`);
    for (const g of CLOUD_WORKER_GRANTS) await c.query(`GRANT ${g.privileges} ON ${g.on} TO ${worker}`);
    await c.query('COMMIT');
  });
}
