import { sql, type Kysely } from 'kysely';

/**
 * The cloud credential store (issue 11, item 3): one row per named secret of a tenant (API keys,
 * passwords, OAuth clients and their cached tokens, pending PKCE authorizations). Envelope
 * encryption: `sealed` is the secret under a random data key of its own (AES-256-GCM), and
 * `wrapped_key` is that data key wrapped by a master key (`key_id` names it: a local key or a KMS
 * key). Both are bound to (tenant, name) as associated data, so a row copied to another tenant or
 * name does not open. The store never sees a secret in clear.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('credentials')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    /** The secret's kind (bearer, basic, oauth2-client, …): not secret, shown in listings. */
    .addColumn('kind', 'text', (c) => c.notNull())
    /** Which master key wrapped the data key. */
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('wrapped_key', 'bytea', (c) => c.notNull())
    /** nonce (12) | ciphertext | tag (16). */
    .addColumn('sealed', 'bytea', (c) => c.notNull())
    /** 1 on creation, +1 on every new value. */
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    /** When set, the secret stops being usable after it (pending authorizations). */
    .addColumn('expires_at', 'timestamptz')
    /** The last failure to use it (an OAuth refresh refused), for its owner; cleared by a new value. */
    .addColumn('failure', 'text')
    .addColumn('failed_at', 'timestamptz')
    .addPrimaryKeyConstraint('credentials_pk', ['tenant_id', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('credentials').execute();
}
