import { sql, type Kysely } from 'kysely';

/**
 * Identity round two (issue 12 section 1):
 * - `tenant_invitations`: an owner or admin invites an address with a role; the invitation's token
 *   is shown once and stored as the SHA-256 of its random secret, single use, expiring, revocable.
 * - `sso_states`: sign-ins through a provider in progress, in the shared store rather than one
 *   node's memory, so the provider may send the person back to any gateway node. Keyed by the
 *   SHA-256 of the state (the state travels in URLs; a read of this table does not give it away).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tenant_invitations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hash', 'bytea', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull().check(sql`email = lower(email)`))
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('owner', 'admin', 'author', 'operator', 'viewer')`),
    )
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('accepted_at', 'timestamptz')
    .addColumn('accepted_by', 'text')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('tenant_invitations_tenant').on('tenant_invitations').column('tenant_id').execute();

  await db.schema
    .createTable('sso_states')
    .addColumn('state_hash', 'bytea', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('verifier', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_states_expiry').on('sso_states').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sso_states').execute();
  await db.schema.dropTable('tenant_invitations').execute();
}
